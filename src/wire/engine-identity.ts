/**
 * Which engine answered: Docker's daemon or Podman's Docker-compatible service, from the headers
 * every answer carries. Docker sends `Server: Docker/28.5.2 (linux)`; Podman sends
 * `Server: Libpod/4.3.1 (linux)` and `Libpod-Api-Version: 4.3.1` (on every answer, `_ping`
 * included), and no `Ostype` or `Swarm`. Pure.
 */
import { firstHeader, type HeaderMap } from "./headers.js"

/** Which engine answered, from its `Server` / `Libpod-API-Version` headers (`engineIdentity`). */
export interface EngineIdentity {
  /** `docker` (dockerd), `podman` (its compat API service), `unknown` (neither header says). */
  readonly kind: "docker" | "podman" | "unknown"
  /** The engine's own version (`28.5.2`, `4.3.1`), not its API version; when the headers say. */
  readonly version: string | undefined
}

const SERVER = /^(Docker|Libpod)\/(\S+)/

/** The engine that sent `headers` (lower-case names, as Node gives them). */
export const engineIdentity = (headers: HeaderMap): EngineIdentity => {
  const libpod = firstHeader(headers, "libpod-api-version")
  const server = SERVER.exec(firstHeader(headers, "server") ?? "")
  if (libpod !== undefined || server?.[1] === "Libpod") {
    return { kind: "podman", version: libpod ?? server?.[2] }
  }
  if (server?.[1] === "Docker") return { kind: "docker", version: server[2] }
  return { kind: "unknown", version: undefined }
}

/** Whether Podman sent `headers` (see {@link engineIdentity}). */
export const isPodman = (headers: HeaderMap): boolean => engineIdentity(headers).kind === "podman"
