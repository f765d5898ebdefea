/**
 * `Plugins`: managed plugins — the generated pass-throughs (`PluginClient`: list, inspect, enable,
 * disable, remove) and the methods that decide something:
 * - **Privileges.** `pull` and `upgrade` must send the privileges the plugin asks for (the daemon
 *   refuses otherwise); given none, they ask the registry first (`GetPluginPrivileges`), as the
 *   Docker CLI does when the user accepts them. A plugin that needs none answers `null` (E30): `[]`.
 * - **Credentials** as `Images.pull` finds them (`auth`: `"config"` default, `"anonymous"`, or
 *   explicit `RegistryCredentials`), sent as `X-Registry-Auth`; a registry refusal is `Unauthorized`.
 * - **Settings** (`configure`) take a map or `KEY=value` strings.
 * - **Create** packs a plugin directory (`config.json` + `rootfs/`) with the project's tar writer,
 *   refusing a directory without `config.json` before anything is sent.
 */
import * as Context from "effect/Context"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Stream from "effect/Stream"
import { stat } from "node:fs/promises"
import { join } from "node:path"
import type { ArchiveError } from "../archive/archive-error.js"
import { packTar } from "../archive/pack.js"
import { type DockerError, InvalidArgumentError } from "../core/errors.js"
import { lazyDescriptor, streamWithDescriptor, withDescriptor } from "../core/lazy.js"
import type { CredentialLookupOptions } from "../docker-cli/credentials.js"
import { DockerEngine, type DockerEngineShape } from "../engine/engine.js"
import { makePluginClient, type PluginClient } from "../generated/clients/plugin.js"
import type { CreateImageInfo } from "../generated/schemas/CreateImageInfo.js"
import type { Plugin } from "../generated/schemas/Plugin.js"
import type { PluginPrivilege } from "../generated/schemas/PluginPrivilege.js"
import type { PushImageInfo } from "../generated/schemas/PushImageInfo.js"
import { foldPush, type ImagePushResult } from "../wire/progress.js"
import { registryAuthHeader, type RegistryAuthOption, type RegistryError, registryRefusal } from "./registry-access.js"

const GetPluginPrivileges$ = lazyDescriptor(() =>
  import("../generated/operations/plugin/GetPluginPrivileges.js").then((m) => m.GetPluginPrivileges)
)
const PluginCreate$ = lazyDescriptor(() =>
  import("../generated/operations/plugin/PluginCreate.js").then((m) => m.PluginCreate)
)
const PluginPull$ = lazyDescriptor(() =>
  import("../generated/operations/plugin/PluginPull.js").then((m) => m.PluginPull)
)
const PluginPush$ = lazyDescriptor(() =>
  import("../generated/operations/plugin/PluginPush.js").then((m) => m.PluginPush)
)
const PluginSet$ = lazyDescriptor(() => import("../generated/operations/plugin/PluginSet.js").then((m) => m.PluginSet))
const PluginUpgrade$ = lazyDescriptor(() =>
  import("../generated/operations/plugin/PluginUpgrade.js").then((m) => m.PluginUpgrade)
)

/** Options of `Plugins.pull`. */
export interface PluginPullOptions {
  /** The local name (default: the remote reference). */
  readonly name?: string | undefined
  /** The privileges to grant; default: what the registry says the plugin needs. */
  readonly privileges?: ReadonlyArray<PluginPrivilege> | undefined
  /** Registry credentials: `"config"` (default) as the Docker CLI finds them, `"anonymous"`, or explicit ones. */
  readonly auth?: RegistryAuthOption | undefined
}

/** Options of `Plugins.upgrade`. */
export interface PluginUpgradeOptions {
  /** The privileges to grant (default: those the plugin asks for, `Plugins.privileges`). */
  readonly privileges?: ReadonlyArray<PluginPrivilege> | undefined
  /** Registry credentials: `"config"` (default) as the Docker CLI finds them, `"anonymous"`, or explicit ones. */
  readonly auth?: RegistryAuthOption | undefined
}

/** Where `create` takes a plugin from: a directory (`config.json` + `rootfs/`) or a ready tar. */
export type PluginCreateSource<E = never> =
  | {
    /** A directory with `config.json` and `rootfs/`. */
    readonly directory: string
  }
  | {
    /** A tar of such a directory. */
    readonly tar: Stream.Stream<Uint8Array, E>
  }

/** Every plugin operation: the generated pass-throughs (`PluginClient`) and the methods below, which decide something. */
export interface PluginsShape extends PluginClient {
  /** `GET /plugins/privileges`: what the plugin at `remote` asks for (`[]` when nothing). */
  readonly privileges: (
    remote: string,
    options?: { readonly auth?: RegistryAuthOption | undefined }
  ) => Effect.Effect<ReadonlyArray<PluginPrivilege>, RegistryError>
  /** `POST /plugins/pull` progress (the privileges fetched first when not given). */
  readonly pullStream: (remote: string, options?: PluginPullOptions) => Stream.Stream<CreateImageInfo, RegistryError>
  /** Installs the plugin (disabled, as the daemon installs it); the plugin as installed. */
  readonly pull: (remote: string, options?: PluginPullOptions) => Effect.Effect<Plugin, RegistryError>
  /** `POST /plugins/{name}/upgrade` progress: `name` (disabled) takes the plugin at `remote`. */
  readonly upgradeStream: (
    name: string,
    remote: string,
    options?: PluginUpgradeOptions
  ) => Stream.Stream<CreateImageInfo, RegistryError>
  /** Upgrades to completion; the plugin afterwards. */
  readonly upgrade: (
    name: string,
    remote: string,
    options?: PluginUpgradeOptions
  ) => Effect.Effect<Plugin, RegistryError>
  /** `POST /plugins/{name}/push` progress. */
  readonly pushStream: (
    name: string,
    options?: { readonly auth?: RegistryAuthOption | undefined }
  ) => Stream.Stream<PushImageInfo, RegistryError>
  /** Pushes to completion: the tag and digest the registry stored (`undefined` if it said none). */
  readonly push: (
    name: string,
    options?: { readonly auth?: RegistryAuthOption | undefined }
  ) => Effect.Effect<ImagePushResult | undefined, RegistryError>
  /** `POST /plugins/{name}/set`: settings as a map or `KEY=value` strings (env, mounts, args). */
  readonly configure: (
    name: string,
    settings: Readonly<Record<string, string>> | ReadonlyArray<string>
  ) => Effect.Effect<void, DockerError>
  /** `POST /plugins/create`: a plugin from a directory or a tar (`config.json` + `rootfs/`). */
  readonly create: <E = never>(
    name: string,
    source: PluginCreateSource<E>
  ) => Effect.Effect<void, DockerError | ArchiveError | E>
}

/** Options of the `Plugins` layer. */
export interface PluginsOptions {
  /** Where `"config"` credentials are looked up (default: `$DOCKER_CONFIG`, `PATH` of this process). */
  readonly credentials?: CredentialLookupOptions | undefined
}

/** The Plugins service over `engine`: the generated pass-throughs, and the decisions. */
export const makePlugins = (engine: DockerEngineShape, options: PluginsOptions = {}): PluginsShape => {
  const client = makePluginClient(engine)
  const lookup = options.credentials ?? {}

  const privileges: PluginsShape["privileges"] = (remote, { auth } = {}) =>
    Effect.flatMap(
      registryAuthHeader(auth, remote, lookup),
      (registryAuth) => withDescriptor(GetPluginPrivileges$, (d) => engine.json(d, { remote, registryAuth }))
    ).pipe(
      Effect.map((granted) => granted ?? []),
      Effect.mapError(registryRefusal)
    )

  /** The privileges to send: the caller's, else the registry's answer. */
  const grant = (
    remote: string,
    given: ReadonlyArray<PluginPrivilege> | undefined,
    auth: RegistryAuthOption | undefined
  ) => given !== undefined ? Effect.succeed(given) : privileges(remote, { auth })

  const pullStream: PluginsShape["pullStream"] = (remote, { auth, name, privileges: given } = {}) =>
    Stream.unwrap(Effect.gen(function*() {
      const body = yield* grant(remote, given, auth)
      const registryAuth = yield* registryAuthHeader(auth, remote, lookup)
      return streamWithDescriptor(
        PluginPull$,
        (d) => engine.messages(d, { remote, registryAuth, body, ...(name !== undefined ? { name } : {}) })
      )
    })).pipe(Stream.mapError(registryRefusal))

  const upgradeStream: PluginsShape["upgradeStream"] = (name, remote, { auth, privileges: given } = {}) =>
    Stream.unwrap(Effect.gen(function*() {
      const body = yield* grant(remote, given, auth)
      const registryAuth = yield* registryAuthHeader(auth, remote, lookup)
      return streamWithDescriptor(PluginUpgrade$, (d) => engine.messages(d, { name, remote, registryAuth, body }))
    })).pipe(Stream.mapError(registryRefusal))

  const pushStream: PluginsShape["pushStream"] = (name, { auth } = {}) =>
    Stream.unwrap(
      Effect.map(registryAuthHeader(auth, name, lookup), (registryAuth) =>
        streamWithDescriptor(PluginPush$, (d) => engine.messages(d, { name, registryAuth })))
    ).pipe(Stream.mapError(registryRefusal))

  const create: PluginsShape["create"] = <E>(name: string, source: PluginCreateSource<E>) =>
    "tar" in source
      ? withDescriptor(PluginCreate$, (d) => engine.empty(d, { name, body: source.tar }))
      : Effect.flatMap(
        Effect.tryPromise({
          try: () => stat(join(source.directory, "config.json")),
          catch: () =>
            new InvalidArgumentError({
              operation: "PluginCreate",
              argument: "directory",
              message:
                `PluginCreate: ${source.directory} has no config.json (a plugin directory holds config.json and rootfs/)`
            })
        }),
        () =>
          withDescriptor(PluginCreate$, (d) =>
            engine.empty(d, {
              name,
              body: packTar([
                { path: join(source.directory, "config.json"), name: "config.json" },
                { path: join(source.directory, "rootfs"), name: "rootfs" }
              ])
            }))
      )

  return {
    ...client,
    privileges,
    pullStream,
    pull: (remote, options = {}) =>
      Effect.andThen(Stream.runDrain(pullStream(remote, options)), client.inspect(options.name ?? remote)),
    upgradeStream,
    upgrade: (name, remote, options = {}) =>
      Effect.andThen(Stream.runDrain(upgradeStream(name, remote, options)), client.inspect(name)),
    pushStream,
    push: (name, options = {}) =>
      Stream.runFold(pushStream(name, options), () => undefined as ImagePushResult | undefined, foldPush),
    configure: (name, settings) =>
      withDescriptor(PluginSet$, (d) =>
        engine.empty(d, {
          name,
          body: Array.isArray(settings)
            ? [...settings]
            : Object.entries(settings).map(([key, value]) => `${key}=${value}`)
        })),
    create
  }
}

/** The Plugins service: managed plugins — pull, upgrade, create, configure (see `PluginsShape`). */
export class Plugins extends Context.Service<Plugins, PluginsShape>()("effect-docker/Plugins") {
  /** Plugins over the `DockerEngine`, with credentials found as the Docker CLI finds them. */
  static readonly layer: Layer.Layer<Plugins, never, DockerEngine> = Layer.effect(Plugins)(
    Effect.map(DockerEngine, (engine) => makePlugins(engine))
  )
  /** Plugins with explicit options (where `"config"` credentials are looked up). */
  static readonly layerWith = (options: PluginsOptions): Layer.Layer<Plugins, never, DockerEngine> =>
    Layer.effect(Plugins)(Effect.map(DockerEngine, (engine) => makePlugins(engine, options)))
}
