/**
 * A BuildKit build (`POST /build?version=2`): a session for the build's lifetime (unless it needs
 * none), the context sent as the request body (BuildKit takes the tar as a "remote" context), and
 * the progress decoded into typed events. A failure the daemon reports inside the stream is
 * `BuildFailedError` with the failing step and its last output lines (a registry's refusal is
 * `Unauthorized`); the session ending early is `BuildKitSessionError`. Stopping the stream
 * (interruption, `take`) closes the build's connection, which cancels the build on the daemon,
 * and then the session.
 *
 * Loaded on first use by `Images` (`import()`), so programs that never build with BuildKit do not
 * load it, `node:http2` included.
 */
import * as Effect from "effect/Effect"
import * as Stream from "effect/Stream"
import { DecodeError, type DockerError, InStreamError, type SshKeyError, UnsupportedByEngine } from "../core/errors.js"
import type { DockerEngineShape } from "../engine/engine.js"
import { ImageBuild, type ImageBuildArgs } from "../generated/operations/image/ImageBuild.js"
import type { BuildInfo } from "../generated/schemas/BuildInfo.js"
import { streamWithBodyStream } from "../wire/body-stream.js"
import {
  type BuildFailedError,
  buildFailure,
  type BuildKitEvent,
  buildKitEvents,
  BuildKitProgress
} from "../wire/buildkit-status.js"
import type { SessionProviders } from "./providers.js"
import { type BuildKitSession, type BuildKitSessionError, openSession } from "./session.js"

export type BuildKitError = DockerError | BuildFailedError | BuildKitSessionError | SshKeyError

/** What to do with a daemon error inside the stream before it becomes `BuildFailedError`. */
export type RefusalMapper = <E>(error: E) => E | DockerError

const decodeEvents = (message: BuildInfo): Effect.Effect<Array<BuildKitEvent>, DecodeError> =>
  Effect.try({
    try: () => buildKitEvents(message),
    catch: (cause) =>
      new DecodeError({
        operation: "ImageBuild",
        detail: `moby.buildkit.trace: ${(cause as Error).message}`,
        message: `ImageBuild: a BuildKit progress message is not a StatusResponse: ${(cause as Error).message}`,
        cause
      })
  })

/**
 * The typed events of a BuildKit build of `args` (query and headers, `version` and `session` set
 * here) with `body` as its context. `providers: false` builds without a session.
 */
export const buildKitStream = <E>(
  engine: DockerEngineShape,
  args: Omit<ImageBuildArgs, "body" | "version" | "session">,
  body: Stream.Stream<Uint8Array, E> | undefined,
  providers: SessionProviders | false,
  refusal: RefusalMapper,
  onSession?: (session: BuildKitSession) => void
): Stream.Stream<BuildKitEvent, BuildKitError | E> =>
  Stream.unwrap(Effect.gen(function*() {
    // Podman's compat service has no BuildKit: /session is a bare 404 and /build ignores
    // `version=2` (a classic build whose stream has no BuildKit messages). Refused before
    // sending, once the layer knows what it talks to (negotiation's ping tells; a pinned layer
    // that has had no answer yet goes ahead, and Podman's 404 on /session is then NotFound).
    yield* engine.apiVersion
    const engineKind = engine.identity()
    if (engineKind.kind === "podman") {
      const name = `podman ${engineKind.version ?? ""}`.trim()
      return yield* new UnsupportedByEngine({
        operation: "ImageBuild",
        engine: name,
        status: 0,
        daemonMessage: "",
        message: `ImageBuild: ${name} has no BuildKit (no /session; /build ignores version=2): ` +
          `build without \`builder: "buildkit"\``
      })
    }
    const session = providers === false ? undefined : yield* openSession(engine, providers)
    if (session) onSession?.(session)
    const progress = new BuildKitProgress()
    const sent = { ...args, version: "2" as const, ...(session ? { session: session.id } : {}) }
    const messages: Stream.Stream<BuildInfo, DockerError | E> = body === undefined
      ? engine.messages(ImageBuild, sent)
      : streamWithBodyStream(body, (iterable) => engine.messages(ImageBuild, { ...sent, body: iterable }))
    const events = messages.pipe(
      Stream.mapEffect(decodeEvents),
      Stream.flattenIterable,
      Stream.tap((event) => Effect.sync(() => progress.add(event))),
      Stream.catchIf(
        (error): error is InStreamError => error instanceof InStreamError,
        (error) => {
          const refused = refusal(error)
          return Stream.fail(refused !== error ? refused : buildFailure("ImageBuild", error.daemonMessage, progress))
        }
      )
    ) as Stream.Stream<BuildKitEvent, BuildKitError | E>
    return session ? Stream.interruptWhen(events, session.ended) : events
  }))

/** Runs a build's events to the end: the image ID (`undefined` if the daemon never sent one). */
export const foldBuildKit = <E>(
  events: Stream.Stream<BuildKitEvent, E>,
  onProgress: ((event: BuildKitEvent) => Effect.Effect<void>) | undefined
): Effect.Effect<BuildKitProgress, E> =>
  Effect.suspend(() => {
    const progress = new BuildKitProgress()
    const tapped = Stream.tap(events, (event) => {
      progress.add(event)
      return onProgress ? onProgress(event) : Effect.void
    })
    return Effect.as(Stream.runDrain(tapped), progress)
  })
