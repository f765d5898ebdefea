/**
 * A streamed response body, fed by undici's dispatch handler callbacks and read as an Effect
 * `Stream`. Chunks queue as they arrive; a pull takes every queued chunk at once (a consumer that
 * fell behind catches up in one step, not one fiber wake-up per chunk); the connection is paused
 * while more than `HIGH_WATER` bytes wait and resumed when a pull drains them.
 *
 * Why not undici's `Readable` body + `NodeStream.fromReadable`: on a log stream of 2–3 KiB chunks
 * that layer was a third of the client's CPU per MiB (bench/README.md, "Logs-follow").
 */
import type * as Arr from "effect/Array"
import * as Cause from "effect/Cause"
import * as Effect from "effect/Effect"
import * as Stream from "effect/Stream"
import type { Dispatcher } from "undici"

/** Bytes queued before the connection is paused (the daemon then waits on a full socket). */
const HIGH_WATER = 256 * 1024

type Pull<E> = Effect.Effect<Arr.NonEmptyReadonlyArray<Uint8Array>, E | Cause.Done>

export interface BodyQueue<E> {
  /** undici's handler callbacks write into the queue through these. */
  readonly start: (controller: Dispatcher.DispatchController) => void
  readonly push: (chunk: Uint8Array) => void
  readonly end: () => void
  readonly fail: (error: E) => void
  /** The body: ends when the response ends, fails with the connection's error. */
  readonly stream: Stream.Stream<Uint8Array, E>
}

export const makeBodyQueue = <E>(): BodyQueue<E> => {
  let controller: Dispatcher.DispatchController | undefined
  let chunks: Array<Uint8Array> = []
  let bytes = 0
  let paused = false
  let ended: Effect.Effect<never, E | Cause.Done> | undefined
  let waiting: ((effect: Pull<E>) => void) | undefined
  let read = false

  const take = (): Arr.NonEmptyReadonlyArray<Uint8Array> => {
    const batch = chunks as unknown as Arr.NonEmptyReadonlyArray<Uint8Array>
    chunks = []
    bytes = 0
    if (paused) {
      paused = false
      // Not now: a pull may run inside another connection's undici callback (a consumer woken
      // there, making a request of its own), and undici resumes a parser only outside of any
      // parser's work. Still paused by then (the queue filled again)? Then stay paused.
      queueMicrotask(() => {
        if (!paused) controller?.resume()
      })
    }
    return batch
  }
  const wake = () => {
    const resume = waiting
    if (resume === undefined) return
    waiting = undefined
    resume(chunks.length > 0 ? Effect.succeed(take()) : ended!)
  }
  const settle = (effect: Effect.Effect<never, E | Cause.Done>) => {
    if (ended !== undefined) return
    ended = effect
    wake()
  }
  const pull: Pull<E> = Effect.suspend(() => {
    if (chunks.length > 0) return Effect.succeed(take())
    if (ended !== undefined) return ended
    return Effect.callback<Arr.NonEmptyReadonlyArray<Uint8Array>, E | Cause.Done>((resume) => {
      waiting = resume
      return Effect.sync(() => {
        waiting = undefined
      })
    })
  })
  return {
    start: (c) => {
      controller = c
    },
    push: (chunk) => {
      chunks.push(chunk)
      bytes += chunk.length
      if (!paused && bytes > HIGH_WATER) {
        paused = true
        controller?.pause()
      }
      wake()
    },
    end: () => settle(Cause.done()),
    fail: (error) => settle(Effect.fail(error)),
    // One reader: a second run would steal the first one's wake-ups (or find the chunks gone).
    stream: Stream.fromPull(Effect.suspend(() => {
      if (read) return Effect.die(new Error("a response body can be read once"))
      read = true
      return Effect.succeed(pull)
    }))
  }
}
