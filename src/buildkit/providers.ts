/**
 * The gRPC services a BuildKit session offers the daemon, each written from its `.proto`
 * (moby/buildkit, and grpc's health.proto):
 * - `grpc.health.v1.Health/Check`: BuildKit checks it every few seconds and drops a session that
 *   does not answer.
 * - `moby.buildkit.secrets.v1.Secrets/GetSecret` (`GetSecretRequest{ID=1, annotations=2}` →
 *   `GetSecretResponse{data=1}`): `RUN --mount=type=secret`.
 * - `moby.filesync.v1.Auth/Credentials` (`CredentialsRequest{Host=1}` →
 *   `CredentialsResponse{Username=1, Secret=2}`): registry credentials for a pull.
 * - `moby.sshforward.v1.SSH/CheckAgent` (`CheckAgentRequest{ID=1}`) and `/ForwardAgent` (a stream
 *   of `BytesMessage{data=1}` both ways, the id in the `buildkit.ssh.id` metadata):
 *   `RUN --mount=type=ssh`; the stream carries the ssh-agent protocol, copied to an agent's socket
 *   or answered here with given keys (`./ssh-agents.ts`).
 * Secrets are read from their `Redacted` (or file, or environment variable) only when the daemon
 * asks, and are never part of an error message: a failure says which secret id, never its value.
 */
import * as Effect from "effect/Effect"
import * as Redacted from "effect/Redacted"
import { readFile } from "node:fs/promises"
import * as net from "node:net"
import type { CredentialsError } from "../docker-cli/credentials.js"
import { DOCKER_HUB_AUTH_KEY } from "../docker-cli/reference.js"
import { ProtoWriter, readFields, text } from "../wire/protobuf.js"
import type { RegistryCredentials } from "../wire/registry-auth.js"
import type { SshPrivateKey } from "../wire/ssh-key.js"
import { type GrpcCall, GrpcCode, type GrpcHandler, GrpcStatus } from "./grpc-server.js"
import { keyAgent, type SshAgent, type SshAgentSource } from "./ssh-agents.js"

export type { SshAgentSource, SshKeySource } from "./ssh-agents.js"

/** Where a secret's value comes from: a `Redacted` value, a file, or an environment variable. */
export type SecretSource =
  | Redacted.Redacted<string>
  | Redacted.Redacted<Uint8Array>
  | {
    /** Read from this file when BuildKit asks. */
    readonly file: string
  }
  | {
    /** Read from this environment variable when BuildKit asks. */
    readonly env: string
  }

/** What a session serves besides health. */
export interface SessionProviders {
  readonly secrets?: Readonly<Record<string, SecretSource>> | undefined
  /** `true`: the `default` id forwards `$SSH_AUTH_SOCK`; or ids → agent sockets or keys. */
  readonly ssh?: true | Readonly<Record<string, SshAgentSource>> | undefined
  /** Registry credentials for a host BuildKit pulls from; `undefined` for anonymous. */
  readonly credentials?:
    | ((host: string) => Effect.Effect<RegistryCredentials | undefined, CredentialsError>)
    | undefined
  /** The environment `{ env }` secrets and `$SSH_AUTH_SOCK` are read from (default `process.env`). */
  readonly env?: Readonly<Record<string, string | undefined>> | undefined
}

/** BuildKit's own limit on a secret (`MaxSecretSize`, 500 KiB). */
const MAX_SECRET_BYTES = 500 * 1024

const stringField = (bytes: Uint8Array, field: number): string => {
  for (const f of readFields(bytes)) if (f.wire === 2 && f.field === field) return text(f.value)
  return ""
}

const health: GrpcHandler = {
  kind: "unary",
  // HealthCheckResponse{status=1: SERVING}
  handle: () => Promise.resolve(new ProtoWriter().uint(1, 1).finish())
}

const secretValue = async (
  id: string,
  source: SecretSource,
  env: Readonly<Record<string, string | undefined>>
): Promise<Uint8Array> => {
  if (Redacted.isRedacted(source)) {
    const value = Redacted.value(source as Redacted.Redacted<string | Uint8Array>)
    return typeof value === "string" ? new TextEncoder().encode(value) : value
  }
  if ("file" in source) {
    try {
      return await readFile(source.file)
    } catch (error) {
      const code = (error as { code?: string }).code ?? "error"
      throw new GrpcStatus(GrpcCode.NOT_FOUND, `secret ${id}: cannot read its file (${code})`)
    }
  }
  const value = env[source.env]
  if (value === undefined) throw new GrpcStatus(GrpcCode.NOT_FOUND, `secret ${id}: $${source.env} is not set`)
  return new TextEncoder().encode(value)
}

const secrets = (
  sources: Readonly<Record<string, SecretSource>>,
  env: Readonly<Record<string, string | undefined>>
): GrpcHandler => ({
  kind: "unary",
  handle: async (request) => {
    const id = stringField(request, 1)
    const source = Object.hasOwn(sources, id) ? sources[id] : undefined
    if (source === undefined) throw new GrpcStatus(GrpcCode.NOT_FOUND, `secret ${id} not found`)
    const data = await secretValue(id, source, env)
    if (data.length > MAX_SECRET_BYTES) {
      throw new GrpcStatus(GrpcCode.INVALID_ARGUMENT, `secret ${id} is larger than 500 KiB`)
    }
    return new ProtoWriter().bytes(1, data).finish()
  }
})

/**
 * The registry BuildKit names (`registry-1.docker.io` for Docker Hub) as the Docker CLI keys its
 * credentials (`https://index.docker.io/v1/`).
 */
export const credentialsKey = (host: string): string =>
  host === "registry-1.docker.io" || host === "docker.io" || host === "index.docker.io" ? DOCKER_HUB_AUTH_KEY : host

const auth = (
  lookup: (host: string) => Effect.Effect<RegistryCredentials | undefined, CredentialsError>
): GrpcHandler => ({
  kind: "unary",
  handle: async (request) => {
    const host = stringField(request, 1)
    const found = await Effect.runPromise(Effect.result(lookup(credentialsKey(host))))
    if (found._tag === "Failure") {
      // The lookup's error names the registry and helper, never a secret; BuildKit shows it.
      throw new GrpcStatus(GrpcCode.UNAVAILABLE, found.failure.message)
    }
    const credentials = found.success
    const out = new ProtoWriter()
    if (credentials === undefined) return out.finish()
    // As the Docker CLI's provider: an identity token is sent as the secret with no username.
    if (credentials.identityToken !== undefined) {
      return out.bytes(2, Redacted.value(credentials.identityToken)).finish()
    }
    return out.bytes(1, credentials.username ?? "")
      .bytes(2, credentials.password === undefined ? "" : Redacted.value(credentials.password))
      .finish()
  }
})

const agentOf = (agents: ReadonlyMap<string, SshAgent>, id: string): SshAgent => {
  const agent = agents.get(id)
  if (agent === undefined) throw new GrpcStatus(GrpcCode.NOT_FOUND, `no ssh agent with id ${id}`)
  if (agent._tag === "Socket" && (agent.path === undefined || agent.path === "")) {
    throw new GrpcStatus(GrpcCode.NOT_FOUND, `ssh agent ${id}: no socket (SSH_AUTH_SOCK is not set)`)
  }
  return agent
}

const checkAgent = (agents: ReadonlyMap<string, SshAgent>): GrpcHandler => ({
  kind: "unary",
  handle: (request) => {
    const id = stringField(request, 1) || "default"
    agentOf(agents, id)
    return Promise.resolve(new Uint8Array(0))
  }
})

const bytesMessage = (data: Uint8Array) => new ProtoWriter().bytes(1, data).finish()

/** Copies bytes between the daemon's stream and a fresh connection to the agent, both ways. */
const forwardSocket = async (call: GrpcCall, id: string, path: string): Promise<void> => {
  const agent = net.connect(path)
  await new Promise<void>((resolve, reject) => {
    agent.once("connect", resolve)
    agent.once("error", () => reject(new GrpcStatus(GrpcCode.UNAVAILABLE, `ssh agent ${id}: cannot connect`)))
  })
  const onAbort = () => agent.destroy()
  call.signal.addEventListener("abort", onAbort, { once: true })
  const fromAgent = new Promise<void>((resolve) => {
    agent.on("data", (chunk: Buffer) => call.send(bytesMessage(chunk)))
    agent.on("close", () => resolve())
    agent.on("error", () => resolve())
  })
  try {
    for await (const message of call.messages) {
      for (const f of readFields(message)) if (f.wire === 2 && f.field === 1) agent.write(f.value)
    }
    agent.end()
    await fromAgent
  } finally {
    call.signal.removeEventListener("abort", onAbort)
    agent.destroy()
  }
}

/** Answers the agent protocol on the daemon's stream with the given keys (no agent process). */
const serveKeys = async (call: GrpcCall, id: string, keys: ReadonlyArray<SshPrivateKey>): Promise<void> => {
  const agent = keyAgent(keys)
  for await (const message of call.messages) {
    for (const f of readFields(message)) {
      if (f.wire !== 2 || f.field !== 1) continue
      let answers: Array<Uint8Array>
      try {
        answers = agent(f.value)
      } catch {
        throw new GrpcStatus(GrpcCode.INVALID_ARGUMENT, `ssh agent ${id}: a malformed agent message`)
      }
      for (const answer of answers) call.send(bytesMessage(answer))
    }
  }
}

/** `ForwardAgent`: one agent connection per stream, for the id in the `buildkit.ssh.id` metadata. */
const forwardAgent = (agents: ReadonlyMap<string, SshAgent>): GrpcHandler => ({
  kind: "stream",
  handle: (call) => {
    const requested = call.metadata["buildkit.ssh.id"]
    const id = (Array.isArray(requested) ? requested[0] : requested) || "default"
    const agent = agentOf(agents, id)
    return agent._tag === "Keys" ? serveKeys(call, id, agent.keys) : forwardSocket(call, id, agent.path!)
  }
})

/** Every method the session serves, by full gRPC name (what it advertises, too). */
export const sessionHandlers = (
  providers: SessionProviders,
  agents: ReadonlyMap<string, SshAgent> = new Map()
): Record<string, GrpcHandler> => {
  const env = providers.env ?? process.env
  const handlers: Record<string, GrpcHandler> = { "/grpc.health.v1.Health/Check": health }
  if (providers.secrets !== undefined) {
    handlers["/moby.buildkit.secrets.v1.Secrets/GetSecret"] = secrets(providers.secrets, env)
  }
  if (providers.credentials !== undefined) handlers["/moby.filesync.v1.Auth/Credentials"] = auth(providers.credentials)
  if (providers.ssh !== undefined) {
    handlers["/moby.sshforward.v1.SSH/CheckAgent"] = checkAgent(agents)
    handlers["/moby.sshforward.v1.SSH/ForwardAgent"] = forwardAgent(agents)
  }
  return handlers
}
