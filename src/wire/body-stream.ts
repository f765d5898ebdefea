/**
 * Request bodies that flow (tar archives for archive put, build contexts, image loads and imports):
 * an Effect `Stream` becomes the `AsyncIterable` the transport sends, and a failure of the stream
 * itself (a file that cannot be read while packing) reaches the caller as that stream's own typed
 * error, not as the connection error the aborted request produces.
 */
import * as Effect from "effect/Effect"
import * as Stream from "effect/Stream"

export const withBodyStream = <A, E, R, E2, R2>(
  body: Stream.Stream<Uint8Array, E, R>,
  use: (iterable: AsyncIterable<Uint8Array>) => Effect.Effect<A, E2, R2>
): Effect.Effect<A, E | E2, R | R2> =>
  Effect.suspend(() => {
    let failed: { readonly error: E } | undefined
    const recorded = body.pipe(
      Stream.tapError((error) =>
        Effect.sync(() => {
          failed = { error }
        })
      )
    )
    return Effect.flatMap(Stream.toAsyncIterableEffect(recorded), (iterable) =>
      use(iterable).pipe(
        // When the body failed, the request was aborted because of it: report the body's error.
        Effect.catch((error): Effect.Effect<never, E | E2> => failed ? Effect.fail(failed.error) : Effect.fail(error))
      ))
  })

/** The same for operations whose answer is itself a stream (build, import, load progress). */
export const streamWithBodyStream = <A, E, E2>(
  body: Stream.Stream<Uint8Array, E>,
  use: (iterable: AsyncIterable<Uint8Array>) => Stream.Stream<A, E2>
): Stream.Stream<A, E | E2> =>
  Stream.suspend(() => {
    let failed: { readonly error: E } | undefined
    const recorded = body.pipe(
      Stream.tapError((error) =>
        Effect.sync(() => {
          failed = { error }
        })
      )
    )
    return use(Stream.toAsyncIterable(recorded)).pipe(
      Stream.mapError((error): E | E2 => failed !== undefined ? failed.error : error)
    )
  })
