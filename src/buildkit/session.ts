/**
 * A BuildKit session: a connection on which this client serves gRPC to the daemon (health,
 * secrets, registry credentials, SSH agents) for as long as a build needs it. It lives exactly as
 * long as its scope: closing the scope ends every call and the connection.
 *
 * Transport: `POST /session` upgraded to h2c (`SessionTransport` "hijack"), which every engine with
 * BuildKit serves (Docker 18.09+; deprecated in API 1.53). Docker 29.2+ also accepts the session
 * over its native HTTP/2 gRPC endpoint; that path would be another `SessionTransport` giving the
 * same `Duplex`-shaped connection to `serveSession` — not written, as no such engine runs here.
 */
import * as Data from "effect/Data"
import * as Deferred from "effect/Deferred"
import * as Effect from "effect/Effect"
import type * as Scope from "effect/Scope"
import { randomUUID } from "node:crypto"
import type { Duplex } from "node:stream"
import type { DockerError, SshKeyError } from "../core/errors.js"
import type { DockerEngineShape } from "../engine/engine.js"
import { Session } from "../generated/operations/session/Session.js"
import { serveGrpc } from "./grpc-server.js"
import { sessionHandlers, type SessionProviders } from "./providers.js"
import { sshAgents } from "./ssh-agents.js"

/** The session ended (the daemon or the connection closed it, or it failed) while a build used it. */
export class BuildKitSessionError extends Data.TaggedError("BuildKitSessionError")<{
  /** The session's id (`X-Docker-Expose-Session-Uuid`). */
  readonly sessionId: string
  /** What went wrong, in one line. */
  readonly message: string
}> {}

/** An open session. */
export interface BuildKitSession {
  /** The id a build names it by (`session` of `POST /build`). */
  readonly id: string
  /** The methods it serves (as advertised to the daemon). */
  readonly methods: ReadonlyArray<string>
  /** Fails with `BuildKitSessionError` if the session ends before its scope closes. */
  readonly ended: Effect.Effect<never, BuildKitSessionError>
  /** The methods the daemon called so far, in order (tests and diagnostics; never arguments). */
  readonly calls: ReadonlyArray<string>
  /** Whether the connection is closed. */
  readonly closed: () => boolean
}

/** Opens the connection a session runs on, advertising its id and methods. */
export type SessionTransport = (
  engine: DockerEngineShape,
  advertised: {
    readonly id: string
    readonly name: string
    readonly sharedKey: string
    readonly methods: ReadonlyArray<string>
  }
) => Effect.Effect<Duplex, DockerError, Scope.Scope>

/** `POST /session` with `Upgrade: h2c`: the hijacked socket (destroyed when the scope closes). */
export const hijackedSession: SessionTransport = (engine, advertised) =>
  Effect.map(
    engine.hijack(Session, {
      sessionId: advertised.id,
      sessionName: advertised.name,
      sharedKey: advertised.sharedKey,
      grpcMethods: advertised.methods
    }),
    (connection) => connection.socket
  )

/**
 * Opens a session serving `providers` (health always) over `transport`, for the current scope.
 * Given SSH keys are read first: one that cannot be used fails with `SshKeyError` before the
 * session is requested. Fails with the transport's error when the daemon refuses it.
 */
export const openSession = (
  engine: DockerEngineShape,
  providers: SessionProviders,
  transport: SessionTransport = hijackedSession
): Effect.Effect<BuildKitSession, DockerError | SshKeyError, Scope.Scope> =>
  Effect.gen(function*() {
    const agents = providers.ssh === undefined
      ? new Map()
      : yield* sshAgents(providers.ssh, providers.env ?? process.env)
    const id = randomUUID().replace(/-/g, "")
    const handlers = sessionHandlers(providers, agents)
    const methods = Object.keys(handlers)
    const socket = yield* transport(engine, { id, name: "effect-docker", sharedKey: id, methods })
    const calls: Array<string> = []
    const failed = yield* Deferred.make<never, BuildKitSessionError>()
    let closed = false
    const connection = yield* Effect.acquireRelease(
      Effect.sync(() => serveGrpc(socket, handlers, (method) => calls.push(method))),
      (served) =>
        Effect.promise(() => {
          closed = true
          return served.close()
        })
    )
    // An end before the scope closes fails whatever waits on `ended`.
    connection.ended.then((reason) => {
      closed = true
      if (reason !== undefined) {
        Deferred.doneUnsafe(
          failed,
          Effect.fail(new BuildKitSessionError({ sessionId: id, message: `BuildKit session: ${reason.message}` }))
        )
      }
    })
    return { id, methods, ended: Deferred.await(failed), calls, closed: () => closed }
  })
