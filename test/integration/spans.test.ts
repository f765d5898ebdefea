import { describe, expect, it } from "@effect/vitest"
import { Effect, Tracer } from "effect"
import { ContainerInspect } from "../../src/generated/operations/container/ContainerInspect.js"
import { Docker, System } from "../../src/index.js"
import { DockerEngine } from "../../src/index.js"
import { currentEngine } from "../support/engines.js"

const target = currentEngine()

/** A tracer that keeps every span it makes, to look at them afterwards. */
const recordingTracer = () => {
  const spans: Array<Tracer.NativeSpan> = []
  const tracer = Tracer.make({
    span: (options) => {
      const span = new Tracer.NativeSpan(options)
      spans.push(span)
      return span
    }
  })
  return { tracer, spans }
}

describe(`spans on engine ${target.id}`, () => {
  it.live("every operation runs in a span named after its operationId, with API version and status", () =>
    Effect.gen(function*() {
      const { spans, tracer } = recordingTracer()
      const engine = yield* DockerEngine
      yield* (yield* System).version().pipe(Effect.withTracer(tracer))
      yield* Effect.flip(engine.json(ContainerInspect, { id: "effect-docker-no-such-container" })).pipe(
        Effect.withTracer(tracer)
      )
      const version = spans.find((s) => s.name === "SystemVersion")
      expect(version?.attributes.get("docker.api_version")).toBe(yield* engine.apiVersion)
      expect(version?.attributes.get("http.response.status_code")).toBe(200)
      expect(version?.attributes.get("http.request.method")).toBe("GET")
      expect(version?.status._tag).toBe("Ended")
      const inspect = spans.find((s) => s.name === "ContainerInspect")
      expect(inspect?.attributes.get("http.response.status_code")).toBe(404)
      // The span ends with the typed failure.
      expect(inspect?.status._tag === "Ended" && inspect.status.exit._tag).toBe("Failure")
    }).pipe(Effect.scoped, Effect.provide(Docker.layer({ host: target.host }))))
})
