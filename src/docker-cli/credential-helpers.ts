/**
 * Credential helpers as the Docker CLI runs them: `docker-credential-<name> get|list` on `PATH`,
 * the server address on stdin, JSON on stdout. A failure names the helper and the registry, never
 * a secret (helpers print errors, not the secret they failed to find).
 */
import * as Data from "effect/Data"
import * as Effect from "effect/Effect"
import * as Redacted from "effect/Redacted"
import { spawn } from "node:child_process"
import type { RegistryCredentials } from "../wire/registry-auth.js"

/** Credentials could not be read: an unreadable `config.json`, or a credential helper that failed. */
export class CredentialsError extends Data.TaggedError("CredentialsError")<{
  /** The registry whose credentials were looked up (empty when reading the configuration failed). */
  readonly registry: string
  /** What went wrong, in one line. */
  readonly message: string
}> {}

/** What `docker-credential-<name> get` prints. */
export interface HelperAnswer {
  readonly ServerURL?: string
  readonly Username?: string
  readonly Secret?: string
}

/** A helper's answer as credentials; `Username: "<token>"` means the secret is an identity token. */
export const credentialsFromHelperAnswer = (serverAddress: string, answer: HelperAnswer): RegistryCredentials => {
  const secret = answer.Secret ?? ""
  if (answer.Username === "<token>") {
    return { identityToken: Redacted.make(secret), serverAddress }
  }
  return {
    username: answer.Username,
    password: secret === "" ? undefined : Redacted.make(secret),
    serverAddress
  }
}

/** The helpers' "nothing stored for this server" answer (docker-credential-helpers' `ErrCredentialsNotFound`). */
export const isCredentialsNotFound = (output: string): boolean => /credentials not found/i.test(output)

export interface HelperRun {
  readonly code: number | null
  readonly stdout: string
  readonly stderr: string
}

/** Runs `docker-credential-<helper> <action>` with `input` on stdin (killed if interrupted). */
export const runHelper = (
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
  env: Readonly<Record<string, string | undefined>>
): Effect.Effect<RegistryCredentials | undefined, CredentialsError> =>
  Effect.gen(function*() {
    const run = yield* runHelper(helper, "get", serverAddress, env)
    if (run.code !== 0) {
      if (isCredentialsNotFound(run.stdout) || isCredentialsNotFound(run.stderr)) return undefined
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

/** The server addresses a credential store lists (`list`); none when it cannot list. */
export const helperServers = (
  helper: string,
  env: Readonly<Record<string, string | undefined>>
): Effect.Effect<ReadonlyArray<string>, CredentialsError> =>
  Effect.map(runHelper(helper, "list", "", env), (run) => {
    if (run.code !== 0) return []
    try {
      return Object.keys(JSON.parse(run.stdout) as Record<string, string>)
    } catch {
      // A store that cannot list contributes nothing beyond the file's keys.
      return []
    }
  })
