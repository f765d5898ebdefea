/**
 * Lossless decoding, checked on every read a test makes: an engine whose `json` and `messages`
 * take the daemon's raw JSON, decode it exactly as the real engine does (the descriptor's Schema
 * through `decodeJsonBody` / `decoderFor`), and record every key the decoded value dropped and
 * every value it changed. A test's `afterAll` asserts the record is empty, save the allowlist.
 */
import { Effect, Layer, Stream } from "effect"
import type { OperationDescriptor } from "../../src/core/descriptor.js"
import { DecodeError } from "../../src/core/errors.js"
import { DockerEngine, type DockerEngineShape } from "../../src/engine/engine.js"
import { decodeJsonBody, decoderFor } from "../../src/wire/decode.js"
import { jsonValues } from "../../src/wire/json-messages.js"

/** One difference: `<operationId> <path>: what`. */
export type Difference = string

/**
 * Deliberate differences, each with its reason: a pattern of the difference line per operation.
 * Nothing else may differ. An entry with `engine: "podman"` explains a difference only on a Podman
 * engine (as the probed engine identifies itself): the keys Podman sends beyond the Docker API,
 * which the client does not decode (it decodes the Docker API; `engine.json`'s raw answer, e.g.
 * `engine.raw`, still has them). Each is a key that is DROPPED, by name: a Podman answer that
 * loses anything else, or changes a value, still fails.
 */
export const DELIBERATE: ReadonlyArray<
  { readonly pattern: RegExp; readonly reason: string; readonly engine?: "podman" }
> = [
  {
    pattern: /^(SecretCreate|ConfigCreate|ServiceCreate) ID: renamed to Id$/,
    reason: "one rule for created objects' ids (spec/errata/E17): decoded as `Id`, whatever casing the daemon sends"
  },
  {
    pattern: /^SystemDataUsage BuildCache\[\d+\]\. Parents: renamed to Parents$/,
    reason: "moby's JSON tag `\" Parents\"` (spec/errata/E32): decoded as the documented `Parents`"
  },
  {
    pattern:
      /^SystemInfo (BuildahVersion|Rootless|Uptime|SwapFree|SwapTotal|CPURealtimePeriod|CPURealtimeRuntime): dropped /,
    reason: "Podman's own /info keys (libpod's info: Buildah's version, rootless mode, uptime, swap, " +
      "realtime CPU scheduling), not in the Docker API",
    engine: "podman"
  },
  {
    pattern: /^ImageList \[\d+\]\.(Names|History|Digest): dropped /,
    reason: "Podman's image summary adds Names (its fully qualified names), History (names it had) and " +
      "Digest, not in the Docker API (RepoTags and RepoDigests are)",
    engine: "podman"
  },
  {
    pattern: /^ContainerList \[\d+\]\.(Name|Config|NetworkingConfig|Platform|AdjustCPUShares): dropped /,
    reason: "Podman's container summary embeds Docker's create request (moby's ContainerCreateConfig: " +
      "empty Name, null Config/NetworkingConfig/Platform, AdjustCPUShares false), not in the summary's API",
    engine: "podman"
  },
  {
    pattern: /^ContainerStats (pre)?cpu_stats\.cpu: dropped /,
    reason: "Podman's CPU stats add `cpu` (its own CPU percentage), not in the Docker API",
    engine: "podman"
  },
  {
    pattern: /^ContainerStats Id: dropped /,
    reason: "Podman names the sample's container `Id` (Docker: `id`); `Containers.stats` gives it as `id` " +
      "(withStatsId, services/containers.ts), the generated decoder alone keeps the spec's `id` only",
    engine: "podman"
  }
]

const isObject = (u: unknown): u is Record<string, unknown> => typeof u === "object" && u !== null && !Array.isArray(u)

/** Every path where `decoded` lost or changed what `raw` had. */
export const differences = (raw: unknown, decoded: unknown, path = ""): Array<string> => {
  if (Array.isArray(raw)) {
    if (!Array.isArray(decoded)) return [`${path || "(root)"}: array became ${JSON.stringify(decoded)}`]
    const out = raw.flatMap((item, i) => differences(item, decoded[i], `${path}[${i}]`))
    return decoded.length === raw.length ? out : [...out, `${path}: ${raw.length} items became ${decoded.length}`]
  }
  if (isObject(raw)) {
    if (!isObject(decoded)) return [`${path || "(root)"}: object became ${JSON.stringify(decoded)}`]
    return Object.keys(raw).flatMap((key) => {
      const at = path === "" ? key : `${path}.${key}`
      if (key in decoded) return differences(raw[key], decoded[key], at)
      const renamed = Object.keys(decoded).find((k) => k !== key && k.toLowerCase() === key.trim().toLowerCase())
      return [
        renamed !== undefined
          ? `${at}: renamed to ${renamed}`
          : `${at}: dropped (${JSON.stringify(raw[key])?.slice(0, 80)})`
      ]
    })
  }
  return Object.is(raw, decoded)
    ? []
    : [`${path || "(root)"}: ${JSON.stringify(raw)} became ${JSON.stringify(decoded)}`]
}

export interface LosslessProbe {
  /** The engine to hand to the test: reads are checked, everything else passes through. */
  readonly engine: DockerEngineShape
  /** Differences seen so far that the allowlist does not explain. */
  readonly unexplained: () => ReadonlyArray<Difference>
  /** Operations whose answers were compared (so a test can see the check ran). */
  readonly compared: () => ReadonlySet<string>
}

const explained = (difference: Difference, podman: boolean) =>
  DELIBERATE.some((d) => (d.engine === undefined || podman) && d.pattern.test(difference))

export const losslessProbe = (engine: DockerEngineShape): LosslessProbe => {
  const seen: Array<Difference> = []
  const compared = new Set<string>()
  const record = (operation: string, raw: unknown, decoded: unknown) => {
    compared.add(operation)
    for (const d of differences(raw, decoded)) {
      const line = `${operation} ${d}`
      // one line per path: the value shown is the first one seen there
      const path = line.replace(/: (dropped|renamed|.* became).*$/, "")
      if (!explained(line, engine.identity().kind === "podman") && !seen.some((s) => s.startsWith(`${path}: `))) {
        seen.push(line)
      }
    }
  }
  const json = (descriptor: OperationDescriptor, args?: unknown, options?: unknown) =>
    Effect.flatMap(engine.raw(descriptor, args as never, options as never), (answer) => {
      const response = descriptor.response
      if (response.kind !== "json") return Effect.die(`${descriptor.operationId} does not answer JSON`)
      return Effect.tap(
        decodeJsonBody(descriptor.operationId, response.schema, answer.body, response.decode),
        (decoded) => Effect.sync(() => record(descriptor.operationId, JSON.parse(answer.body), decoded))
      )
    })
  const messages = (descriptor: OperationDescriptor, args?: unknown) => {
    const response = descriptor.response
    if (response.kind !== "jsonStream") return Stream.die(`${descriptor.operationId} does not stream JSON`)
    const decode = decoderFor(
      response.schema,
      response.decode,
      (detail) => new DecodeError({ operation: descriptor.operationId, detail, message: detail })
    )
    return engine.stream(descriptor, args as never).pipe(
      jsonValues,
      Stream.mapEffect((raw) =>
        Effect.tap(decode(raw), (decoded) => Effect.sync(() => record(descriptor.operationId, raw, decoded)))
      )
    )
  }
  return {
    engine: { ...engine, json: json as DockerEngineShape["json"], messages: messages as DockerEngineShape["messages"] },
    unexplained: () => seen,
    compared: () => compared
  }
}

/**
 * `body` run with the current `DockerEngine` behind a lossless probe; succeeds with the probe, so
 * the test can assert `unexplained()` is empty (and see what was `compared()`).
 */
export const withLosslessProbe = <E, R>(
  body: (engine: DockerEngineShape) => Effect.Effect<void, E, R>
): Effect.Effect<LosslessProbe, E, R | DockerEngine> =>
  Effect.flatMap(DockerEngine, (engine) => {
    const probe = losslessProbe(engine)
    return Effect.as(body(probe.engine), probe)
  })

/**
 * A `DockerEngine` layer for `host` whose reads all go through a lossless probe, and the probes it
 * made (one per build of the layer): a file asserts in `afterAll` that none saw a difference.
 */
export const losslessEngineLayer = (host: string) => {
  const probes: Array<LosslessProbe> = []
  const layer = Layer.effect(DockerEngine)(Effect.map(DockerEngine, (engine) => {
    const probe = losslessProbe(engine)
    probes.push(probe)
    return probe.engine
  })).pipe(Layer.provide(DockerEngine.layer({ host })))
  return { layer, unexplained: () => probes.flatMap((probe) => probe.unexplained()) }
}
