/**
 * Registry credentials the way the Docker CLI finds them: `$DOCKER_CONFIG/config.json` (default
 * `~/.docker`), its `credHelpers` / `credsStore` through `docker-credential-<name>` programs on
 * `PATH`, else its `auths`. Secrets stay `Redacted`; a failure names the registry and helper,
 * never a secret.
 */
import { Data, Effect } from "effect"
import { spawn } from "node:child_process"
import { readFile } from "node:fs/promises"
import { join } from "node:path"
import { configDirectory } from "../engine/context.js"
import {
  ConfigAuthError,
  credentialsFromConfigEntry,
  credentialsFromHelperAnswer,
  credentialSourceFor,
  type DockerConfigFile,
  type HelperAnswer,
  isCredentialsNotFound,
  type RegistryCredentials
} from "../wire/registry-auth.js"

/** Credentials could not be read: an unreadable `config.json`, or a credential helper that failed. */
export class CredentialsError extends Data.TaggedError("CredentialsError")<{
  /** The registry whose credentials were looked up (empty when reading the configuration failed). */
  readonly registry: string
  readonly message: string
}> {}

/** Where to look: the config directory and the environment helpers run with (`PATH`). */
export interface CredentialLookupOptions {
  /** The directory holding `config.json`; default `$DOCKER_CONFIG`, else `~/.docker`. */
  readonly configDir?: string | undefined
  /** The environment of credential helpers (their `PATH` finds them); default `process.env`. */
  readonly env?: Readonly<Record<string, string | undefined>> | undefined
}

const objectOrUndefined = (value: unknown): Record<string, unknown> | undefined =>
  typeof value === "object" && value !== null && !Array.isArray(value) ? value as Record<string, unknown> : undefined

/** `config.json`'s credential settings; a missing file is an empty configuration. */
export const readDockerConfig = (
  options: CredentialLookupOptions = {}
): Effect.Effect<DockerConfigFile, CredentialsError> =>
  Effect.gen(function*() {
    const dir = options.configDir ?? configDirectory(process.env)
    const file = join(dir, "config.json")
    const text = yield* Effect.tryPromise({
      try: () => readFile(file, "utf8"),
      catch: (error) => error as NodeJS.ErrnoException
    }).pipe(
      Effect.catch((error) =>
        error.code === "ENOENT"
          ? Effect.succeed(undefined)
          : Effect.fail(
            new CredentialsError({ registry: "", message: `cannot read ${file} (${error.code ?? "error"})` })
          )
      )
    )
    if (text === undefined || text.trim() === "") return {}
    let parsed: unknown
    try {
      parsed = JSON.parse(text)
    } catch {
      return yield* new CredentialsError({ registry: "", message: `${file} is not valid JSON` })
    }
    const record = objectOrUndefined(parsed) ?? {}
    const auths = objectOrUndefined(record.auths) as DockerConfigFile["auths"]
    const credHelpers = objectOrUndefined(record.credHelpers) as DockerConfigFile["credHelpers"]
    return {
      ...(auths ? { auths } : {}),
      ...(typeof record.credsStore === "string" ? { credsStore: record.credsStore } : {}),
      ...(credHelpers ? { credHelpers } : {})
    }
  })

interface HelperRun {
  readonly code: number | null
  readonly stdout: string
  readonly stderr: string
}

/** Runs `docker-credential-<helper> <action>` with `input` on stdin (killed if interrupted). */
const runHelper = (
  helper: string,
  action: "get" | "list",
  input: string,
  env: Readonly<Record<string, string | undefined>>
): Effect.Effect<HelperRun, CredentialsError> =>
  Effect.callback<HelperRun, CredentialsError>((resume) => {
    const program = `docker-credential-${helper}`
    const child = spawn(program, [action], { env: env as NodeJS.ProcessEnv, stdio: ["pipe", "pipe", "pipe"] })
    let stdout = ""
    let stderr = ""
    child.stdout.setEncoding("utf8").on("data", (chunk: string) => (stdout += chunk))
    child.stderr.setEncoding("utf8").on("data", (chunk: string) => (stderr += chunk))
    child.on("error", (error: NodeJS.ErrnoException) =>
      resume(Effect.fail(
        new CredentialsError({
          registry: input,
          message: error.code === "ENOENT"
            ? `the credential helper ${program} is not on PATH`
            : `the credential helper ${program} could not run (${error.code ?? error.message})`
        })
      )))
    child.on("close", (code) => resume(Effect.succeed({ code, stdout, stderr })))
    child.stdin.on("error", () => {}) // a helper that exits without reading stdin
    child.stdin.end(input)
    return Effect.sync(() => {
      child.kill()
    })
  })

/** Asks a credential helper for `serverAddress`; `undefined` when it stores nothing for it. */
export const credentialsFromHelper = (
  helper: string,
  serverAddress: string,
  options: CredentialLookupOptions = {}
): Effect.Effect<RegistryCredentials | undefined, CredentialsError> =>
  Effect.gen(function*() {
    const run = yield* runHelper(helper, "get", serverAddress, options.env ?? process.env)
    if (run.code !== 0) {
      if (isCredentialsNotFound(run.stdout) || isCredentialsNotFound(run.stderr)) return undefined
      // The helper's own words, cut short: helpers print errors, never the secret they failed to find.
      const said = (run.stdout.trim() || run.stderr.trim()).slice(0, 200)
      return yield* new CredentialsError({
        registry: serverAddress,
        message: `docker-credential-${helper} get failed for ${serverAddress} (exit ${run.code})${
          said ? `: ${said}` : ""
        }`
      })
    }
    let answer: HelperAnswer
    try {
      answer = JSON.parse(run.stdout) as HelperAnswer
    } catch {
      return yield* new CredentialsError({
        registry: serverAddress,
        message: `docker-credential-${helper} get printed something that is not JSON for ${serverAddress}`
      })
    }
    return credentialsFromHelperAnswer(serverAddress, answer)
  })

/**
 * The credentials the Docker CLI would use for `registry` (`127.0.0.1:5000`, or
 * `https://index.docker.io/v1/` for Docker Hub); `undefined` when there are none.
 */
export const credentialsForRegistry = (
  registry: string,
  options: CredentialLookupOptions = {}
): Effect.Effect<RegistryCredentials | undefined, CredentialsError> =>
  Effect.gen(function*() {
    const config = yield* readDockerConfig(options)
    const source = credentialSourceFor(config, registry)
    switch (source._tag) {
      case "None":
        return undefined
      case "Helper":
        return yield* credentialsFromHelper(source.helper, source.serverAddress, options)
      case "File": {
        const credentials = credentialsFromConfigEntry(source.serverAddress, source.entry)
        if (credentials instanceof ConfigAuthError) {
          return yield* new CredentialsError({ registry, message: credentials.message })
        }
        return credentials
      }
    }
  })

/**
 * Every registry's credentials (for a build's `X-Registry-Config`, as the CLI sends them): the
 * `auths` entries, then what `credsStore` lists, then each `credHelpers` registry.
 */
export const allCredentials = (
  options: CredentialLookupOptions = {}
): Effect.Effect<Record<string, RegistryCredentials>, CredentialsError> =>
  Effect.gen(function*() {
    const config = yield* readDockerConfig(options)
    const out: Record<string, RegistryCredentials> = {}
    const registries = new Set(Object.keys(config.auths ?? {}))
    if (config.credsStore) {
      const run = yield* runHelper(config.credsStore, "list", "", options.env ?? process.env)
      if (run.code === 0) {
        try {
          for (const key of Object.keys(JSON.parse(run.stdout) as Record<string, string>)) registries.add(key)
        } catch {
          // A store that cannot list contributes nothing beyond the file's keys.
        }
      }
    }
    for (const key of Object.keys(config.credHelpers ?? {})) registries.add(key)
    for (const registry of registries) {
      const credentials = yield* credentialsForRegistry(registry, options)
      if (credentials !== undefined) out[registry] = credentials
    }
    return out
  })
