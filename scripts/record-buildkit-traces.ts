/**
 * Records the raw `POST /build?version=2` answers of a few builds on every test engine into
 * test/fixtures/buildkit/<engine>-<build>.jsonl (the bytes as the daemon sent them), for the
 * progress decoder's property tests. Run: `npx tsx scripts/record-buildkit-traces.ts` with the
 * test engines up. Each image is labelled and removed afterwards.
 */
import { Effect, Layer, Stream } from "effect"
import { writeFileSync } from "node:fs"
import { join } from "node:path"
import * as tar from "tar-stream"
import { DockerEngine } from "../src/engine/engine.js"
import { ImageBuild } from "../src/generated/operations/image/ImageBuild.js"
import { ImagePrune } from "../src/generated/operations/image/ImagePrune.js"
import { engineList, engineTarget } from "../test/support/engines.js"

const BUILDS: Record<string, Record<string, string>> = {
  "multi-stage": {
    Dockerfile: [
      "FROM busybox:local AS base",
      "RUN --mount=type=cache,target=/cache echo cached > /cache/a && cp /cache/a /a",
      "FROM base",
      "COPY files/ /files/",
      "RUN echo to-stdout && echo to-stderr >&2 && ls /files | wc -l",
      ""
    ].join("\n"),
    ...Object.fromEntries(Array.from({ length: 20 }, (_, i) => [`files/f${i}`, `file ${i}\n`.repeat(200)]))
  },
  failing: { Dockerfile: "FROM busybox:local\nRUN echo about-to-fail && echo oops >&2 && exit 7\n" },
  // Lower-case `as` and a legacy ENV form: BuildKit 0.14+ (Docker 27+) sends lint warnings.
  warnings: { Dockerfile: "FROM busybox:local as base\nENV A b\nRUN echo warned\n" }
}

const contextOf = (files: Record<string, string>) =>
  Stream.suspend(() => {
    const pack = tar.pack()
    for (const [name, content] of Object.entries(files)) pack.entry({ name }, content)
    pack.finalize()
    return Stream.orDie(Stream.fromAsyncIterable(pack as AsyncIterable<Uint8Array>, (e) => e as Error))
  })

const LABEL = { "effect-docker.fixture": "buildkit-traces" }

for (const spec of engineList()) {
  const target = engineTarget(spec.id)
  if (!target) continue
  await Effect.runPromise(
    Effect.gen(function*() {
      const engine = yield* DockerEngine
      for (const [name, files] of Object.entries(BUILDS)) {
        const chunks = yield* Stream.runCollect(
          engine.stream(ImageBuild, {
            version: "2",
            networkmode: "none",
            nocache: true,
            labels: LABEL,
            contentType: "application/x-tar",
            body: contextOf(files)
          })
        )
        const file = join(import.meta.dirname, "../test/fixtures/buildkit", `${spec.id}-${name}.jsonl`)
        writeFileSync(file, Buffer.concat(chunks.map((c) => Buffer.from(c))))
        console.log(`${file}: ${chunks.length} chunks`)
      }
      yield* engine.json(ImagePrune, {
        filters: { label: ["effect-docker.fixture=buildkit-traces"], dangling: ["false"] }
      })
    }).pipe(Effect.scoped, Effect.provide(Layer.fresh(DockerEngine.layer({ host: target.host }))))
  )
}
