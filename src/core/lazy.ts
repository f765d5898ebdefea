/**
 * Descriptor modules loaded on first use. A program evaluates only the generated modules (and
 * their Schemas) of the operations it calls: the per-tag clients and the services name their
 * descriptors through `lazyDescriptor(() => import(...))`, and a bundler splits them into chunks.
 * After the first call the descriptor is held, and a call costs what a static import would.
 */
import * as Effect from "effect/Effect"
import * as Stream from "effect/Stream"

/** A descriptor that is loaded (once) when an operation first needs it. */
export interface LazyDescriptor<D> {
  /** The descriptor once loaded, else `undefined`. */
  readonly loaded: () => D | undefined
  /** Loads it (once; concurrent first calls share the import). */
  readonly load: () => Promise<D>
}

/** A descriptor loaded by `load` on first use. */
export const lazyDescriptor = <D>(load: () => Promise<D>): LazyDescriptor<D> => {
  let value: D | undefined
  let pending: Promise<D> | undefined
  return {
    loaded: () => value,
    load: () => (pending ??= load().then((d) => (value = d)))
  }
}

/** `f` of the descriptor: at once when it is loaded, else after loading it. */
export const withDescriptor = <D, A, E, R>(
  lazy: LazyDescriptor<D>,
  f: (descriptor: D) => Effect.Effect<A, E, R>
): Effect.Effect<A, E, R> => {
  const d = lazy.loaded()
  return d !== undefined ? f(d) : Effect.flatMap(Effect.promise(lazy.load), f)
}

/** The Stream `f` makes of the descriptor: at once when it is loaded, else after loading it. */
export const streamWithDescriptor = <D, A, E, R>(
  lazy: LazyDescriptor<D>,
  f: (descriptor: D) => Stream.Stream<A, E, R>
): Stream.Stream<A, E, R> => {
  const d = lazy.loaded()
  return d !== undefined ? f(d) : Stream.unwrap(Effect.map(Effect.promise(lazy.load), f))
}
