/**
 * A real managed plugin made locally (there is no internet): a rootfs holding one tiny static
 * program (`plugin/dummy.c`, compiled here with the host's `gcc -static`, never committed) that
 * answers the plugin handshake on the socket its `config.json` names, a config of the dummy kind
 * (interface `docker.dummy/1.0`, one settable env `DUMMY_MODE`), packed with the project's own
 * `packTar` and created with `PluginCreate`. Plugins carry no labels: their names start with the
 * run's `ed-<run>-` prefix (`uniqueName`), and each is disabled and force-removed when its scope
 * closes.
 */
import { Effect, type Scope } from "effect"
import { execFile } from "node:child_process"
import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { fileURLToPath } from "node:url"
import { promisify } from "node:util"
import type { ArchiveError } from "../../src/archive/archive-error.js"
import { packTar } from "../../src/archive/pack.js"
import type { DockerError } from "../../src/core/errors.js"
import type { DockerEngineShape } from "../../src/engine/engine.js"
import { PluginCreate } from "../../src/generated/operations/plugin/PluginCreate.js"
import { PluginDelete } from "../../src/generated/operations/plugin/PluginDelete.js"
import { PluginDisable } from "../../src/generated/operations/plugin/PluginDisable.js"
import { uniqueName } from "./resources.js"

const SOURCE = fileURLToPath(new URL("./plugin/dummy.c", import.meta.url))

/** The plugin's config.json: what `PluginInspect` then reports as its `Config`. */
export const dummyPluginConfig = {
  Description: "effect-docker test plugin",
  Documentation: "none",
  Interface: { Types: ["docker.dummy/1.0"], Socket: "dummy.sock" },
  Entrypoint: ["/dummy"],
  WorkDir: "",
  Network: { Type: "" },
  Linux: { Capabilities: [], AllowAllDevices: false, Devices: [] },
  PropagatedMount: "",
  IpcHost: false,
  PidHost: false,
  Mounts: [],
  Env: [{ Name: "DUMMY_MODE", Description: "a setting PluginSet can change", Settable: ["value"], Value: "quiet" }],
  Args: { Name: "", Description: "", Settable: [], Value: [] }
} as const

export type DummyPluginConfig = typeof dummyPluginConfig | Record<string, unknown>

/**
 * The plugin's directory (`config` as config.json + rootfs/ with the compiled program and the
 * mount points), in a temporary directory that is removed when `scope` closes.
 */
export const pluginDirectory = (
  config: DummyPluginConfig = dummyPluginConfig
): Effect.Effect<string, Error, Scope.Scope> =>
  Effect.acquireRelease(
    Effect.tryPromise({
      try: async () => {
        const dir = await mkdtemp(join(tmpdir(), "ed-plugin-"))
        const rootfs = join(dir, "rootfs")
        for (const sub of ["run/docker/plugins", "dev", "proc", "sys", "etc", "tmp"]) {
          await mkdir(join(rootfs, sub), { recursive: true })
        }
        await promisify(execFile)("gcc", ["-static", "-Os", "-o", join(rootfs, "dummy"), SOURCE])
        await writeFile(join(dir, "config.json"), JSON.stringify(config))
        // A rootfs of its own per config: 20.10 refuses (409 "content … already exists") a second
        // plugin whose rootfs layer is byte-identical to one it already holds.
        await writeFile(join(rootfs, "etc", "ed-plugin.json"), JSON.stringify(config))
        return dir
      },
      catch: (cause) => new Error(`building the test plugin (gcc -static ${SOURCE}) failed: ${String(cause)}`)
    }),
    (dir) => Effect.promise(() => rm(dir, { recursive: true, force: true }))
  )

/** The plugin as `PluginCreate` takes it: a tar of config.json and rootfs/, made by `packTar`. */
export const pluginTar = (dir: string) =>
  packTar([{ path: join(dir, "config.json"), name: "config.json" }, { path: join(dir, "rootfs"), name: "rootfs" }])

/** Cleanup never hides the test's outcome: a plugin already gone is fine; anything else is logged. */
export const removePlugin = (engine: DockerEngineShape, name: string): Effect.Effect<void> =>
  Effect.andThen(
    engine.empty(PluginDisable, { name, force: true }).pipe(Effect.catch(() => Effect.void)),
    engine.empty(PluginDelete, { name, force: true })
  ).pipe(
    Effect.timeout("30 seconds"),
    Effect.catchTag("NotFound", () => Effect.void),
    Effect.catch((error) => Effect.logWarning(`could not remove plugin ${name}: ${String(error)}`))
  )

/**
 * Creates the dummy plugin as `name` (default: unique to this run, tag `1`) from `dir`, sent as a
 * streamed tar through the descriptor; disabled and force-removed when the scope closes.
 */
export const scopedPlugin = (
  engine: DockerEngineShape,
  dir: string,
  name: string = `${uniqueName("plugin")}:1`
): Effect.Effect<{ readonly name: string }, DockerError | ArchiveError, Scope.Scope> =>
  Effect.acquireRelease(
    Effect.as(engine.empty(PluginCreate, { name, body: pluginTar(dir) }), { name }),
    (plugin) => removePlugin(engine, plugin.name)
  )
