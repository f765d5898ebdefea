/** A tracer that keeps every span it makes, to look at them afterwards (spans, credentials tests). */
import { expect } from "@effect/vitest"
import { Tracer } from "effect"

export const recordingTracer = () => {
  const spans: Array<Tracer.NativeSpan> = []
  const tracer = Tracer.make({
    span: (options) => {
      const span = new Tracer.NativeSpan(options)
      spans.push(span)
      return span
    }
  })
  /** The spans named `name` so far. */
  const named = (name: string) => spans.filter((s) => s.name === name)
  /** The one span named `name`. */
  const only = (name: string) => {
    const found = named(name)
    expect(found.map((s) => s.name), `spans named ${name}`).toEqual([name])
    return found[0]!
  }
  return { tracer, spans, named, only }
}
