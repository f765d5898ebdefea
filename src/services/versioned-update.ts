/**
 * Updating a swarm object (service, node, swarm, secret, config) the way the daemon requires: the
 * update names the object's current `Version.Index`, and the daemon refuses it with "update out
 * of sequence" when someone else updated the object in between. So: read the object, build the
 * new spec from what was read, send it with that version — and on "out of sequence", do it all
 * once more from a fresh read (a second conflict is the caller's to handle).
 */
import * as Effect from "effect/Effect"

/** What the daemon says when the version sent is not the object's current one. */
const OUT_OF_SEQUENCE = /update out of sequence/i

/** A daemon's answer that the object changed since it was read. */
export const isOutOfSequence = (error: unknown): boolean =>
  typeof error === "object" && error !== null && "daemonMessage" in error &&
  typeof error.daemonMessage === "string" && OUT_OF_SEQUENCE.test(error.daemonMessage)

/** An object as the daemon returns it: its version, and the rest. */
interface Versioned {
  readonly Version?: { readonly Index?: number | undefined } | null | undefined
}

/**
 * `write(object, version)` on the object `read` returns, retried once from a fresh read when the
 * daemon answers "update out of sequence".
 */
export const updateAtCurrentVersion = <O extends Versioned, A, E, E2>(
  read: Effect.Effect<O, E>,
  write: (current: O, version: number) => Effect.Effect<A, E2>
): Effect.Effect<A, E | E2> => {
  const attempt = Effect.flatMap(read, (current) => write(current, current.Version?.Index ?? 0))
  return attempt.pipe(Effect.catchIf(isOutOfSequence, () => attempt))
}
