/**
 * TEMPORARY: hand-written descriptors for the foundation slice (ping, version, info), to be
 * replaced by the generated ones from `src/generated/` (issue #3). Kept minimal on purpose.
 */
import { Schema } from "effect"
import type { OperationDescriptor } from "../engine/operation.js"

const opt = Schema.optionalKey

export const SystemVersionResponse = Schema.Struct({
  Platform: opt(Schema.Struct({ Name: Schema.String })),
  Components: opt(Schema.NullOr(Schema.Array(Schema.Struct({ Name: Schema.String, Version: Schema.String })))),
  Version: Schema.String,
  ApiVersion: Schema.String,
  MinAPIVersion: opt(Schema.String),
  GitCommit: opt(Schema.String),
  GoVersion: opt(Schema.String),
  Os: Schema.String,
  Arch: Schema.String,
  KernelVersion: opt(Schema.String),
  Experimental: opt(Schema.Boolean),
  BuildTime: opt(Schema.String)
})

export const SystemInfoResponse = Schema.Struct({
  ID: opt(Schema.String),
  Containers: Schema.Number,
  ContainersRunning: Schema.Number,
  ContainersPaused: Schema.Number,
  ContainersStopped: Schema.Number,
  Images: Schema.Number,
  Driver: opt(Schema.String),
  DockerRootDir: opt(Schema.String),
  NEventsListener: opt(Schema.Number),
  KernelVersion: opt(Schema.String),
  OperatingSystem: opt(Schema.String),
  OSType: opt(Schema.String),
  Architecture: opt(Schema.String),
  NCPU: opt(Schema.Number),
  MemTotal: opt(Schema.Number),
  Name: opt(Schema.String),
  Labels: opt(Schema.NullOr(Schema.Array(Schema.String))),
  ServerVersion: Schema.String
})

export const SystemPing = {
  operationId: "SystemPing",
  method: "GET",
  path: "/_ping",
  params: [],
  response: { kind: "text" },
  since: "1.41"
} as const satisfies OperationDescriptor

export const SystemVersion = {
  operationId: "SystemVersion",
  method: "GET",
  path: "/version",
  params: [],
  response: { kind: "json", schema: SystemVersionResponse },
  since: "1.41"
} as const satisfies OperationDescriptor

export const SystemInfo = {
  operationId: "SystemInfo",
  method: "GET",
  path: "/info",
  params: [],
  response: { kind: "json", schema: SystemInfoResponse },
  since: "1.41"
} as const satisfies OperationDescriptor
