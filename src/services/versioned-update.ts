/**
 * Updating a swarm object (service, node, swarm, secret, config, cluster volume): the daemon takes
 * the new spec together with the version it was read at, and refuses the update when the object
 * changed in between ("update out of sequence"). The methods read the current object themselves;
 * when someone else's update slipped in between the read and the write, reading once more and
 * applying the caller's patch to what is there now is what the caller asked for. Once: a second
 * refusal means a writer that keeps racing, and is the caller's to see.
 */
import * as Effect from "effect/Effect"
import type { DockerError } from "../core/errors.js"

/** Is this the daemon's "the version you sent is not the current one" refusal? */
export const isOutOfSequence = (error: DockerError): boolean =>
  "daemonMessage" in error && /update out of sequence/i.test(error.daemonMessage ?? "")

/** `readThenWrite` (which reads the current version itself), run once more if it lost a race. */
export const retryOnceOutOfSequence = <A, R>(
  readThenWrite: Effect.Effect<A, DockerError, R>
): Effect.Effect<A, DockerError, R> => readThenWrite.pipe(Effect.catchIf(isOutOfSequence, () => readThenWrite))
