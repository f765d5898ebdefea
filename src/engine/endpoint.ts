/**
 * Where the daemon is: parsed from a `DOCKER_HOST`-style address the way the Docker CLI reads it.
 * Pure parsing, no I/O.
 */
import { EndpointError } from "../core/errors.js"

/** The daemon's socket when nothing says otherwise. */
export const DEFAULT_UNIX_SOCKET = "/var/run/docker.sock"
const DEFAULT_TCP_PORT = 2375
const DEFAULT_TLS_PORT = 2376

/** A parsed daemon address (`parseEndpoint`), told apart by `_tag`. */
export type Endpoint =
  | {
    /** A unix socket. */
    readonly _tag: "Unix"
    /** Its path. */
    readonly socketPath: string
  }
  | {
    /** TCP, with or without TLS. */
    readonly _tag: "Tcp"
    /** Host name or address. */
    readonly host: string
    /** Port (default 2375, 2376 with TLS). */
    readonly port: number
    /** Speak TLS (`https://`, or `tcp://` with TLS options). */
    readonly tls: boolean
  }
  | {
    /** The system `ssh`, running `docker system dial-stdio` on the remote. */
    readonly _tag: "Ssh"
    /** The remote user, if the address names one. */
    readonly user: string | undefined
    /** The remote host. */
    readonly host: string
    /** The ssh port, if the address names one. */
    readonly port: number | undefined
  }
  | {
    /** A Windows named pipe. */
    readonly _tag: "Npipe"
    /** Its path (`//./pipe/docker_engine`). */
    readonly path: string
  }

/** The address in the CLI's own notation, for messages (`unix:///var/run/docker.sock`). */
export const formatEndpoint = (endpoint: Endpoint): string => {
  switch (endpoint._tag) {
    case "Unix":
      return `unix://${endpoint.socketPath}`
    case "Tcp":
      return `${endpoint.tls ? "https" : "tcp"}://${endpoint.host}:${endpoint.port}`
    case "Ssh":
      return `ssh://${endpoint.user ? `${endpoint.user}@` : ""}${endpoint.host}${
        endpoint.port ? `:${endpoint.port}` : ""
      }`
    case "Npipe":
      return `npipe://${endpoint.path}`
  }
}

/**
 * Parses `unix:///path`, `tcp://host[:port]`, `http://…`, `https://…`, `ssh://[user@]host[:port]`
 * and `npipe:////./pipe/name`. An empty or missing address means the default unix socket.
 */
export const parseEndpoint = (address: string | undefined): Endpoint | EndpointError => {
  const raw = address?.trim() ?? ""
  if (raw === "") return { _tag: "Unix", socketPath: DEFAULT_UNIX_SOCKET }
  const fail = (why: string) => new EndpointError({ endpoint: raw, message: `invalid Docker host "${raw}": ${why}` })
  const schemeEnd = raw.indexOf("://")
  if (schemeEnd < 0) return fail("expected a scheme such as unix://, tcp://, https:// or ssh://")
  const scheme = raw.slice(0, schemeEnd).toLowerCase()
  const rest = raw.slice(schemeEnd + 3)
  switch (scheme) {
    case "unix":
      return { _tag: "Unix", socketPath: rest === "" ? DEFAULT_UNIX_SOCKET : rest }
    case "npipe":
      return rest === "" ? fail("missing pipe path") : { _tag: "Npipe", path: rest }
    case "tcp":
    case "http":
    case "https":
    case "ssh": {
      let url: URL
      try {
        // A scheme without a default port, so an explicit `:80` or `:443` is kept.
        url = new URL(`docker-host://${rest}`)
      } catch {
        return fail("not a valid host[:port]")
      }
      if (url.hostname === "") return fail("missing host")
      if (url.pathname !== "/" && url.pathname !== "") return fail(`a path (${url.pathname}) is not supported`)
      // IPv6 literals come back bracketed from URL; sockets want them bare.
      const host = url.hostname.replace(/^\[(.*)\]$/, "$1")
      const port = url.port === "" ? undefined : Number(url.port)
      if (scheme === "ssh") {
        return { _tag: "Ssh", user: url.username === "" ? undefined : decodeURIComponent(url.username), host, port }
      }
      const tls = scheme === "https"
      return { _tag: "Tcp", host, port: port ?? (tls ? DEFAULT_TLS_PORT : DEFAULT_TCP_PORT), tls }
    }
    default:
      return fail(`unsupported scheme "${scheme}://"`)
  }
}
