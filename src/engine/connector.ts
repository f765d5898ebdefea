/**
 * How connections to a daemon are made, per kind of endpoint: the origin undici's pool speaks to
 * and its `connect` function, plus `dial` for code that needs a raw byte stream of its own
 * (hijacked attach/exec). Unix sockets and plain TCP are undici's own; TLS is undici's connector
 * with the key material read once, here; ssh runs the system `ssh` binary with
 * `docker system dial-stdio` on the remote, one child process per connection, as the Docker CLI
 * does; named pipes are a `socketPath` on Windows.
 *
 * Key material and passwords never reach an error or a log: errors name files and codes only.
 */
import * as Effect from "effect/Effect"
import type * as Scope from "effect/Scope"
import { type ChildProcess, spawn } from "node:child_process"
import { readFileSync } from "node:fs"
import * as net from "node:net"
import { join } from "node:path"
import { Duplex } from "node:stream"
import * as tls from "node:tls"
import type * as Undici from "undici"
import { EndpointError } from "../core/errors.js"
import { type Endpoint, formatEndpoint } from "./endpoint.js"
import { buildConnector } from "./undici.js"

/** PEM text (or its bytes). */
export type Pem = string | Uint8Array

/**
 * TLS for `tcp://` / `https://` endpoints. Given at all, it turns TLS on for a `tcp://` address (as
 * `DOCKER_TLS_VERIFY` does for the CLI). Ignored for unix sockets, ssh and named pipes.
 */
export interface TlsOptions {
  /** CA certificates the daemon's certificate must chain to; default: Node's trusted CAs. */
  readonly ca?: Pem | undefined
  /** Client certificate, for daemons started with `--tlsverify`. Needs `key`. */
  readonly cert?: Pem | undefined
  /** The client certificate's private key. */
  readonly key?: Pem | undefined
  /**
   * A directory holding `ca.pem`, `cert.pem` and `key.pem`, as `DOCKER_CERT_PATH`: `ca.pem` must
   * be there, `cert.pem`/`key.pem` are used when present. Explicit `ca`/`cert`/`key` win over it.
   */
  readonly certPath?: string | undefined
  /** Verify the daemon's certificate and name (default `true`; `false` is `DOCKER_TLS=1`). */
  readonly verify?: boolean | undefined
  /** The name to verify instead of the address's host (SNI is sent for DNS names only). */
  readonly servername?: string | undefined
}

/** How `ssh://` endpoints run the system `ssh`. */
export interface SshOptions {
  /** The ssh binary (default `ssh` from `PATH`). */
  readonly command?: string | undefined
  /**
   * Extra arguments, placed before this client's own so they win (ssh keeps the first value of
   * an option), e.g. `["-F", "/path/to/ssh_config"]` or `["-i", key, "-o", "Port=2222"]`.
   */
  readonly options?: ReadonlyArray<string> | undefined
  /** Seconds for ssh to connect and finish its handshake (`-o ConnectTimeout`, default 30). */
  readonly connectTimeout?: number | undefined
}

export interface ConnectorOptions {
  readonly tls?: TlsOptions | undefined
  readonly ssh?: SshOptions | undefined
}

export interface Connector {
  /** The endpoint as connections see it: `tcp://` with TLS options is `Tcp{tls: true}`. */
  readonly endpoint: Endpoint
  /** The origin for undici (`http://docker` where the host part means nothing). */
  readonly origin: string
  /** undici's `connect` option: connection options, or a function making the socket. */
  readonly connect: Undici.buildConnector.BuildOptions | Undici.buildConnector.connector
  /** Pool options this kind of connection wants (e.g. a longer keep-alive for ssh). */
  readonly poolOptions: { readonly keepAliveTimeout?: number }
  /** A fresh raw connection, for a request that takes the socket over (attach, exec). */
  readonly dial: () => Duplex
  /**
   * What to tell the user when the daemon drops the connection without an answer, where this kind
   * of connection has a likely reason (TLS without a client certificate).
   */
  readonly closedHint?: string
}

const endpointError = (address: string, message: string) => new EndpointError({ endpoint: address, message })

const isMissing = (error: unknown) => (error as { code?: unknown } | null)?.code === "ENOENT"

const readPem = (address: string, file: string, what: string): Buffer | EndpointError => {
  try {
    return readFileSync(file)
  } catch (error) {
    const code = (error as { code?: unknown } | null)?.code
    return endpointError(
      address,
      `cannot read the TLS ${what} ${file} for ${address} (${typeof code === "string" ? code : "unreadable"})`
    )
  }
}

interface TlsMaterial {
  readonly ca: Buffer | string | undefined
  readonly cert: Buffer | string | undefined
  readonly key: Buffer | string | undefined
  readonly verify: boolean
  readonly servername: string | undefined
}

const asPem = (pem: Pem | undefined): Buffer | string | undefined =>
  pem === undefined || typeof pem === "string" ? pem : Buffer.from(pem)

/** Reads and checks the TLS material once, when the layer is built. */
export const loadTlsMaterial = (address: string, options: TlsOptions): TlsMaterial | EndpointError => {
  let ca = asPem(options.ca)
  let cert = asPem(options.cert)
  let key = asPem(options.key)
  if (options.certPath !== undefined) {
    const dir = options.certPath
    if (ca === undefined) {
      const read = readPem(address, join(dir, "ca.pem"), "CA certificate")
      if (read instanceof EndpointError) return read
      ca = read
    }
    // As the CLI: a client certificate or key that is not there is simply not used.
    for (const [name, what] of [["cert.pem", "client certificate"], ["key.pem", "client key"]] as const) {
      if ((name === "cert.pem" ? cert : key) !== undefined) continue
      const file = join(dir, name)
      let read: Buffer | EndpointError | undefined
      try {
        read = readFileSync(file)
      } catch (error) {
        read = isMissing(error) ? undefined : readPem(address, file, what)
      }
      if (read instanceof EndpointError) return read
      if (name === "cert.pem") cert = read
      else key = read
    }
  }
  if ((cert === undefined) !== (key === undefined)) {
    return endpointError(
      address,
      `TLS for ${address}: a client ${cert === undefined ? "key" : "certificate"} was given without its ` +
        `${cert === undefined ? "certificate" : "key"}`
    )
  }
  // Parse everything now, so a bad file fails the layer instead of every request. OpenSSL's
  // messages name the problem, never the bytes.
  try {
    tls.createSecureContext({
      ...(ca !== undefined ? { ca } : {}),
      ...(cert !== undefined ? { cert } : {}),
      ...(key !== undefined ? { key } : {})
    })
  } catch (error) {
    const code = (error as { code?: unknown } | null)?.code
    const part = String((error as { message?: unknown } | null)?.message ?? "").toLowerCase()
    const which = part.includes("key") ? "client key" : part.includes("ca") ? "CA certificate" : "certificate or key"
    return endpointError(
      address,
      `TLS for ${address}: the ${which} is not usable PEM material${typeof code === "string" ? ` (${code})` : ""}`
    )
  }
  return { ca, cert, key, verify: options.verify ?? true, servername: options.servername }
}

/** OpenSSL's codes for "the daemon's certificate is not trusted / not for this name". */
const isVerificationError = (code: unknown): code is string =>
  typeof code === "string" && (
    code.startsWith("CERT_") ||
    code.includes("SELF_SIGNED") ||
    code.startsWith("UNABLE_TO_") ||
    code === "ERR_TLS_CERT_ALTNAME_INVALID" ||
    code === "HOSTNAME_MISMATCH"
  )

const explainTlsError = (error: Error): Error => {
  const code = (error as { code?: unknown }).code
  if (!isVerificationError(code)) return error
  return Object.assign(
    new Error(
      `TLS verification of the daemon's certificate failed (${error.message}): it is not signed by the CA in use ` +
        `(DOCKER_CERT_PATH/ca.pem, the context's ca.pem, or the \`tls.ca\` option) or not issued for this address`,
      { cause: error }
    ),
    { code }
  )
}

// ---------------------------------------------------------------------------------------------
// ssh: one `ssh … -- host docker system dial-stdio` child per connection
// ---------------------------------------------------------------------------------------------

const STDERR_KEEP = 4096
const STDERR_LINES = 5

/** The first lines of what ssh said, for an error message. */
const firstLines = (text: string) =>
  text.split(/\r?\n/).map((l) => l.trim()).filter((l) => l !== "").slice(0, STDERR_LINES).join(" | ")

/**
 * A child's stdio as a socket for undici: writes go to its stdin (end = half-close, which
 * `dial-stdio` passes on to the daemon), reads come from its stdout. The end of the stream is
 * decided when the child has exited: a clean exit is EOF, anything else an error carrying ssh's
 * stderr. Destroying it kills the child.
 */
class ChildSocket extends Duplex {
  private stderr = ""
  private exited = false

  constructor(
    readonly child: ChildProcess,
    private readonly describe: (status: string, stderr: string) => Error
  ) {
    super({ allowHalfOpen: true })
    const { stdin, stdout, stderr } = child
    stdout!.on("data", (chunk: Buffer) => {
      if (!this.push(chunk)) stdout!.pause()
    })
    stderr!.on("data", (chunk: Buffer) => {
      if (this.stderr.length < STDERR_KEEP) this.stderr += chunk.toString("utf8").slice(0, STDERR_KEEP)
    })
    // EPIPE on stdin means the child is gone; its exit reports why.
    stdin!.on("error", () => {})
    child.on("error", (error: NodeJS.ErrnoException) => {
      this.exited = true
      this.destroy(
        Object.assign(
          new Error(
            error.code === "ENOENT" ?
              `cannot run ${String(child.spawnfile)}: not found (is OpenSSH's client installed and on PATH?)` :
              `cannot run ${String(child.spawnfile)}: ${error.message}`
          ),
          { code: error.code === "ENOENT" ? "SSH_NOT_FOUND" : "SSH_FAILED" }
        )
      )
    })
    child.on("close", (code, signal) => {
      this.exited = true
      if (this.destroyed) return
      if (code === 0) {
        this.push(null)
        return
      }
      this.destroy(
        this.describe(signal !== null ? `was killed by ${signal}` : `exited with status ${code}`, this.stderr)
      )
    })
  }

  override _read() {
    this.child.stdout?.resume()
  }

  override _write(chunk: Buffer, _encoding: BufferEncoding, callback: (error?: Error | null) => void) {
    const stdin = this.child.stdin
    if (stdin === null || stdin.destroyed) return callback(this.describe("is gone", this.stderr))
    stdin.write(chunk, (error) => {
      if (!error) return callback(null)
      // EPIPE comes before ssh's stderr and exit: wait for the exit, which fails the socket with
      // ssh's own words (an unreachable host, a refused key) instead of "said nothing".
      const fail = () => callback(this.describe("stopped reading", this.stderr))
      if (this.exited) fail()
      else this.child.once("close", fail)
    })
  }

  override _final(callback: (error?: Error | null) => void) {
    this.child.stdin?.end()
    callback()
  }

  override _destroy(error: Error | null, callback: (error?: Error | null) => void) {
    if (!this.exited) this.child.kill("SIGTERM")
    callback(error)
  }

  // undici calls these on its sockets when present. An idle pooled connection is unref'ed so it
  // does not keep the process alive on its own, exactly like a socket would.
  setNoDelay() {
    return this
  }
  setKeepAlive() {
    return this
  }
  ref() {
    this.child.ref()
    for (const pipe of [this.child.stdin, this.child.stdout, this.child.stderr]) (pipe as net.Socket | null)?.ref?.()
    return this
  }
  unref() {
    this.child.unref()
    for (const pipe of [this.child.stdin, this.child.stdout, this.child.stderr]) (pipe as net.Socket | null)?.unref?.()
    return this
  }
}

/** The ssh command line for an endpoint, as the CLI's connhelper builds it (plus our defaults). */
export const sshArguments = (
  endpoint: Extract<Endpoint, { _tag: "Ssh" }>,
  options: SshOptions = {}
): ReadonlyArray<string> => [
  ...(options.options ?? []),
  // No prompts: a library has nobody to answer them (an agent or an unencrypted key still works).
  "-o",
  "BatchMode=yes",
  "-o",
  `ConnectTimeout=${Math.max(1, Math.round(options.connectTimeout ?? 30))}`,
  "-T",
  ...(endpoint.user !== undefined ? ["-l", endpoint.user] : []),
  ...(endpoint.port !== undefined ? ["-p", String(endpoint.port)] : []),
  "--",
  endpoint.host,
  "docker",
  "system",
  "dial-stdio"
]

const makeSshDialer = (
  endpoint: Extract<Endpoint, { _tag: "Ssh" }>,
  address: string,
  options: SshOptions
): Effect.Effect<() => Duplex, never, Scope.Scope> =>
  Effect.gen(function*() {
    const command = options.command ?? "ssh"
    const args = sshArguments(endpoint, options)
    const sockets = new Set<ChildSocket>()
    let closed = false
    const describe = (status: string, stderr: string) => {
      const said = firstLines(stderr)
      return Object.assign(
        new Error(`ssh to ${address} ${status}${said !== "" ? `: ${said}` : " (it said nothing)"}`),
        { code: "SSH_FAILED" }
      )
    }
    // Every child dies with the layer: connections first (undici's pool is closed before this
    // runs), then whatever is left, waiting until each has really exited.
    yield* Effect.addFinalizer(() =>
      Effect.promise(async () => {
        closed = true
        await Promise.all(
          [...sockets].map(({ child }) =>
            new Promise<void>((resolve) => {
              if (child.exitCode !== null || child.signalCode !== null) return resolve()
              const force = setTimeout(() => child.kill("SIGKILL"), 2_000)
              child.once("exit", () => {
                clearTimeout(force)
                resolve()
              })
            })
          ).concat([...sockets].map((socket) => {
            // Destroying kills the child (SIGTERM); the promises above wait for it to be gone.
            socket.destroy()
            return Promise.resolve()
          }))
        )
      })
    )
    return (): Duplex => {
      if (closed) {
        const socket = new Duplex({ read() {} })
        socket.destroy(Object.assign(new Error(`the engine for ${address} is closed`), { code: "ECONNRESET" }))
        return socket
      }
      const child = spawn(command, args, { stdio: ["pipe", "pipe", "pipe"], windowsHide: true })
      const socket = new ChildSocket(child, describe)
      sockets.add(socket)
      child.once("exit", () => sockets.delete(socket))
      child.once("error", () => sockets.delete(socket))
      return socket
    }
  })

// ---------------------------------------------------------------------------------------------

const bracketed = (host: string) => host.includes(":") ? `[${host}]` : host

/** Windows' pipe path from the URL form: `//./pipe/docker_engine` → `\\.\pipe\docker_engine`. */
export const npipePath = (path: string) => path.replace(/\//g, "\\")

/** Connection setup for `endpoint`; children and sockets it makes are released with `scope`. */
export const makeConnector = (
  requested: Endpoint,
  options: ConnectorOptions = {}
): Effect.Effect<Connector, EndpointError, Scope.Scope> =>
  Effect.gen(function*() {
    switch (requested._tag) {
      case "Unix": {
        const socketPath = requested.socketPath
        return {
          endpoint: requested,
          // The host part is ignored on a unix socket; the daemon only reads the path.
          origin: "http://docker",
          connect: { socketPath },
          poolOptions: {},
          dial: () => net.connect({ path: socketPath })
        }
      }
      case "Npipe": {
        const address = formatEndpoint(requested)
        if (process.platform !== "win32") {
          return yield* endpointError(
            address,
            `named pipes (${address}) exist only on Windows; on ${process.platform}, use a unix:// socket, ` +
              `tcp:// or ssh://`
          )
        }
        const path = npipePath(requested.path)
        return {
          endpoint: requested,
          origin: "http://docker",
          connect: { socketPath: path },
          poolOptions: {},
          dial: () => net.connect({ path })
        }
      }
      case "Tcp": {
        const endpoint: Endpoint = options.tls !== undefined && !requested.tls ? { ...requested, tls: true } : requested
        if (endpoint._tag !== "Tcp") return yield* Effect.die("unreachable")
        const { host, port } = endpoint
        if (!endpoint.tls) {
          return {
            endpoint,
            origin: `http://${bracketed(host)}:${port}`,
            connect: {},
            poolOptions: {},
            dial: () => net.connect({ host, port })
          }
        }
        const address = formatEndpoint(endpoint)
        const material = loadTlsMaterial(address, options.tls ?? {})
        if (material instanceof EndpointError) return yield* material
        const tlsOptions = {
          ...(material.ca !== undefined ? { ca: material.ca } : {}),
          ...(material.cert !== undefined ? { cert: material.cert } : {}),
          ...(material.key !== undefined ? { key: material.key } : {}),
          rejectUnauthorized: material.verify,
          ...(material.servername !== undefined ? { servername: material.servername } : {})
        }
        const base = buildConnector(tlsOptions)
        const connect: Undici.buildConnector.connector = (opts, callback) =>
          base(opts, (...result) => {
            if (result[0] !== null) callback(explainTlsError(result[0]), null)
            else callback(null, result[1])
          })
        const servername = material.servername ?? (net.isIP(host) === 0 ? host : undefined)
        return {
          endpoint,
          origin: `https://${bracketed(host)}:${port}`,
          connect,
          poolOptions: {},
          // With TLS 1.3 the daemon checks the client certificate after the handshake, so a missing
          // one shows up as a closed connection, not as a handshake error.
          ...(material.cert === undefined
            ? {
              closedHint: "a daemon started with --tlsverify requires a client certificate: put cert.pem and " +
                "key.pem in DOCKER_CERT_PATH, or pass tls: { cert, key }"
            }
            : {}),
          dial: () => tls.connect({ ...tlsOptions, host, port, ...(servername !== undefined ? { servername } : {}) })
        }
      }
      case "Ssh": {
        const address = formatEndpoint(requested)
        const dial = yield* makeSshDialer(requested, address, options.ssh ?? {})
        return {
          endpoint: requested,
          origin: "http://docker",
          // A child's pipes are usable at once; an ssh failure (auth, unreachable host, no docker
          // on the remote) surfaces as this socket's error, carrying ssh's stderr. undici expects
          // the callback asynchronously (as a socket's 'connect'), never from within the call.
          connect: (_opts, callback) => {
            const socket = dial()
            process.nextTick(() => callback(null, socket as unknown as net.Socket))
          },
          // Each connection costs an ssh handshake: keep idle ones longer than undici's 4 s.
          poolOptions: { keepAliveTimeout: 60_000 },
          dial
        }
      }
    }
  })
