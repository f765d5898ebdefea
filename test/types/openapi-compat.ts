/**
 * Type-level cross-check (checked by `tsc -p tsconfig.json`): for every definition of the v1.56
 * spec, the Type of our generated Schema agrees with what openapi-typescript derives independently
 * from the *upstream* spec (`test/types/openapi.d.ts`, made by `npm run codegen:openapi`).
 *
 * "Agrees" = the same property names at every depth, and mutually assignable types, after both
 * sides go through `Loose`. Every deliberate difference is recorded HERE and nowhere else:
 *
 * 1. Relaxed `required` (our cross-version rule + E10/R1): all properties compared as optional.
 * 2. `null` accepted for arrays/maps/objects (+ E10 nullable scalars): `null` removed on both sides.
 * 3. Open enums (`"a" | "b" | (string & {})`): literal unions compared as their base type.
 * 4. Readonly: ours is readonly, theirs mutable: arrays compared as ReadonlyArray.
 * 5. Errata that change a definition's shape: the property paths in `Deliberate` below are
 *    excluded from the comparison (each names its erratum).
 * 7. Properties a newer spec removed but older supported daemons send or accept (the generator keeps
 *    the union across versions: optional, `@deprecated Removed after API 1.NN`; codegen/merge.ts):
 *    also listed in `Deliberate` ("removed after 1.NN"), as paths: a definition that embeds another
 *    one repeats its entries under the property's name (`ContainerInspectResponse`:
 *    `NetworkSettings.IPAddress`, via `In<"NetworkSettings", "NetworkSettings">`), and an `allOf`
 *    composite its base's (`HostConfig` ← `Resources`, `NetworkSummary` ← `Network`).
 */
import type * as Schemas from "../../src/generated/schemas/index.js"
import type { components } from "./openapi.js"

type Theirs = components["schemas"]
type Ours = { [K in keyof typeof Schemas]: (typeof Schemas)[K]["Type"] }

/**
 * Deliberate shape differences (errata, removed-but-kept properties) per definition: top-level
 * property names, or paths below one (`Config.DockerVersion`, `NetworksAttachments[].Network.Containers`).
 */
interface Deliberate {
  /** E4: `error` and `progress` kept for older daemons; E5: `aux` is `ImageID | string`. */
  BuildInfo: "error" | "progress" | "aux"
  /** E4: `error` and `progress` kept for older daemons. */
  CreateImageInfo: "error" | "progress"
  /** E4: `error`, `progress` kept; `id`, `aux` (`{Tag, Digest, Size}` on the last message) added. */
  PushImageInfo: "error" | "progress" | "id" | "aux"
  /** E12: maps whose values are always `{}` (upstream: `unknown`); `MacAddress` removed after 1.51. */
  ContainerConfig: "ExposedPorts" | "Volumes" | "MacAddress"
  /** E12; the container-only fields removed after 1.49. */
  ImageConfig:
    | "ExposedPorts"
    | "Volumes"
    | "Hostname"
    | "Domainname"
    | "AttachStdin"
    | "AttachStdout"
    | "AttachStderr"
    | "Tty"
    | "OpenStdin"
    | "StdinOnce"
    | "Image"
    | "NetworkDisabled"
    | "MacAddress"
    | "StopTimeout"
  /** E13: `Components[].Details` is a map of strings (upstream: `Record<string, unknown>`). */
  SystemVersion: "Components"
  /** Removed after 1.51. */
  AuthConfig: "email"
  /** Removed after 1.41 (replaced by `Parents`). */
  BuildCache: "Parent"
  /** Removed after 1.48. */
  Commit: "Expected"
  /** Removed after 1.43 (`VirtualSize`), 1.44 (`Container`, `ContainerConfig`), 1.51 (`Parent`, `DockerVersion`). */
  ImageInspect:
    | "Parent"
    | "DockerVersion"
    | "Container"
    | "ContainerConfig"
    | "VirtualSize"
    | In<"Config", "ImageConfig">
  /** Its `NetworkSettings`, `Config`, `HostConfig`. */
  ContainerInspectResponse:
    | In<"NetworkSettings", "NetworkSettings">
    | `Config.MacAddress`
    | In<"HostConfig", "Resources">
  /** Removed after 1.43. */
  ImageSummary: "VirtualSize"
  /** Removed after 1.51 (moved to `NetworkInspect`). */
  Network: "Containers"
  /** `allOf` Network. */
  NetworkSummary: "Containers"
  /** E26: `Network` is a swarm network (upstream: the local-network definition). */
  NetworkAttachment: "Network"
  /** E26: its `NetworksAttachments[].Network`; E25: `Spec.ContainerSpec.Healthcheck`; E27: `Volumes`. */
  Task: "NetworksAttachments" | "Spec" | "Volumes"
  /** E25: `ContainerSpec.Healthcheck` (upstream `HealthCheck`). */
  TaskSpec: "ContainerSpec"
  /** E25, via its `TaskTemplate`. */
  ServiceSpec: "TaskTemplate"
  /** E25, via `Spec`; E27: `PreviousSpec`. */
  Service: "Spec" | "PreviousSpec"
  /** E17: the id decodes as `Id` (upstream `ID`). */
  ServiceCreateResponse: "ID" | "Id"
  /** E31: `Secrets`, `AccessibilityRequirements`, `CapacityRange`, `Availability` beside `AccessMode`, not in it. */
  ClusterVolumeSpec: "AccessMode" | "Secrets" | "AccessibilityRequirements" | "CapacityRange" | "Availability"
  /** E31, via `Spec`. */
  ClusterVolume: "Spec"
  /** E31, via `ClusterVolumeSpec`. */
  VolumeCreateRequest: "ClusterVolumeSpec"
  /** E31, via `ClusterVolume.Spec`. */
  Volume: "ClusterVolume"
  /** E31, via `Volumes[].ClusterVolume.Spec`. */
  VolumeListResponse: "Volumes"
  /** E23: the legacy `status`, `id` and `from` daemons still send. */
  EventMessage: "status" | "id" | "from"
  /** The container's default-network fields, removed after 1.51. */
  NetworkSettings:
    | "Bridge"
    | "HairpinMode"
    | "LinkLocalIPv6Address"
    | "LinkLocalIPv6PrefixLen"
    | "SecondaryIPAddresses"
    | "SecondaryIPv6Addresses"
    | "EndpointID"
    | "Gateway"
    | "GlobalIPv6Address"
    | "GlobalIPv6PrefixLen"
    | "IPAddress"
    | "IPPrefixLen"
    | "IPv6Gateway"
    | "MacAddress"
  /** Removed after 1.51. */
  Plugin: "Config.DockerVersion"
  /** Removed after 1.48. */
  RegistryServiceConfig: "AllowNondistributableArtifactsCIDRs" | "AllowNondistributableArtifactsHostnames"
  /** Removed after 1.41 (`KernelMemory`) and 1.51 (`KernelMemoryTCP`). */
  Resources: "KernelMemory" | "KernelMemoryTCP"
  /** `allOf` Resources. */
  HostConfig: "KernelMemory" | "KernelMemoryTCP"
  /** Removed after 1.41 (`KernelMemory`, `ClusterStore`, `ClusterAdvertise`), 1.49 (`BridgeNf*`), 1.51. */
  SystemInfo:
    | "KernelMemoryTCP"
    | "BridgeNfIptables"
    | "BridgeNfIp6tables"
    | "KernelMemory"
    | "ClusterStore"
    | "ClusterAdvertise"
    | "ContainerdCommit.Expected"
    | "RuncCommit.Expected"
    | "InitCommit.Expected"
    | In<"RegistryConfig", "RegistryServiceConfig">
}
/** The removed-but-kept entries of definition `N` (those of category 7), under property `P`. */
type In<P extends string, N extends keyof Deliberate> = `${P}.${Exclude<Deliberate[N], "ExposedPorts" | "Volumes">}`

type Primitive = string | number | boolean | bigint | symbol
/** 6. Free-form values (`unknown`, `Record<string, never>`, `{}`) all compare as `unknown`. */
type Loose<T> = [T] extends [never] ? unknown
  : unknown extends T ? unknown
  : T extends string ? string
  : T extends number ? number
  : T extends boolean ? boolean
  : T extends ReadonlyArray<infer U> ? ReadonlyArray<Loose<NonNullable<U>>>
  : T extends object ? (keyof T extends never ? unknown : { [K in keyof T]?: Loose<NonNullable<T[K]>> })
  : T

/** The excluded paths `X` below property `K` (`a.b` → `b`; `a[].b` → `[].b`). */
type Below<X, K extends string> = X extends `${K}.${infer R}` ? R : X extends `${K}[]${infer R}` ? `[]${R}` : never

/** Property paths, except the paths `X` (relative to `T`, from `Deliberate`) and what lies below them. */
type Paths<T, P extends string, D extends ReadonlyArray<unknown>, X = never> = D["length"] extends 8 ? never
  : T extends Primitive ? never
  : T extends ReadonlyArray<infer U> ? Paths<NonNullable<U>, `${P}[]`, D, X extends `[].${infer R}` ? R : never>
  : T extends object ? {
      [K in keyof T & string]-?: K extends X ? never
        : `${P}.${K}` | Paths<NonNullable<T[K]>, `${P}.${K}`, [...D, 0], Below<X, K>>
    }[keyof T & string]
  : never

type Strip<T, N> = N extends keyof Deliberate ? T extends object ? Omit<T, Deliberate[N]> : T : T

type MutuallyAssignable<A, B> = [A] extends [B] ? ([B] extends [A] ? true : false) : false
type SameKeys<A, B> = [A] extends [B] ? ([B] extends [A] ? true : false) : false

type Agree<A, B, X = never> = MutuallyAssignable<Loose<NonNullable<A>>, Loose<NonNullable<B>>> extends true
  ? SameKeys<Paths<NonNullable<A>, "", [], X>, Paths<NonNullable<B>, "", [], X>> extends true ? true
  : "different property names"
  : "incompatible types"

type Excluded<N> = N extends keyof Deliberate ? Deliberate[N] : never
type Check<N extends keyof Theirs & keyof Ours> = Agree<Strip<Ours[N], N>, Strip<Theirs[N], N>, Excluded<N>>

/** Definitions that fail the check; must be `never`. Hover over it to see which and why. */
export type Failures = {
  [N in keyof Theirs & keyof Ours]: Check<N> extends true ? never : [N, Check<N>]
}[keyof Theirs & keyof Ours]

/** Every upstream definition has a generated Schema. */
type Missing = Exclude<keyof Theirs, keyof Ours>

// The check is not vacuous: these must fail.
export const detectsOtherShapes: Agree<Ours["ContainerSummary"], Theirs["ImageSummary"]> extends true ? false : true =
  true
export const detectsMissingNestedProperty: Agree<
  { readonly A?: { readonly B?: string } },
  { A?: { B?: string; C?: number } }
> = "different property names"
export const detectsTypeChange: Agree<{ readonly A?: string }, { A?: number }> = "incompatible types"
export const detectsRemovedButKeptProperties: Agree<Ours["NetworkSettings"], Theirs["NetworkSettings"]> =
  "different property names"
export const excusesOnlyListedPaths: Agree<
  Ours["ContainerInspectResponse"],
  Theirs["ContainerInspectResponse"],
  "Config.MacAddress"
> = "different property names"
export const detectsDroppedErrataKeys: Agree<Ours["BuildInfo"], Theirs["BuildInfo"]> extends true ? false : true = true

export const everyDefinitionAgrees: [Failures] extends [never] ? true : Failures = true
export const noDefinitionMissing: [Missing] extends [never] ? true : Missing = true
