/**
 * The ssh-agents a BuildKit session forwards for `RUN --mount=type=ssh`, by id: an agent's socket
 * (`$SSH_AUTH_SOCK` by default), whose bytes are copied both ways, or given keys, for which the
 * session is the agent itself (`docker buildx build --ssh default=~/.ssh/id_ed25519`): it answers
 * identity and sign requests over the forwarded stream (`../wire/ssh-agent.ts`) with the keys held
 * in memory (`../wire/ssh-key.ts`).
 *
 * Keys are read and parsed when the session opens, before anything is sent: a file that cannot be
 * read, text that is no private key, an encrypted key without (or with the wrong) passphrase is
 * `SshKeyError`, which names the id and the file (never the key or the passphrase).
 * `bcrypt-pbkdf` (pure JS) is loaded only for an encrypted OpenSSH-format key.
 */
import * as Effect from "effect/Effect"
import * as Redacted from "effect/Redacted"
import { readFile } from "node:fs/promises"
import { SshKeyError } from "../core/errors.js"
import { agentFailure, AgentMessageReader, agentRequest, identitiesAnswer, signResponse } from "../wire/ssh-agent.js"
import {
  type BcryptPbkdf,
  isEncryptedOpenSshKey,
  parseSshPrivateKey,
  SshKeyParseError,
  type SshPrivateKey
} from "../wire/ssh-key.js"

/** A private key for an in-memory agent: a file, or its text; with its passphrase if encrypted. */
export type SshKeySource =
  | {
    /** The key file's path (OpenSSH or PEM format), read when the session opens. */
    readonly file: string
    /** The passphrase of an encrypted key. */
    readonly passphrase?: Redacted.Redacted<string> | undefined
  }
  | {
    /** The key's text (OpenSSH or PEM format). */
    readonly key: Redacted.Redacted<string>
    /** The passphrase of an encrypted key. */
    readonly passphrase?: Redacted.Redacted<string> | undefined
  }

/**
 * An ssh-agent to forward: a running agent's socket (default `$SSH_AUTH_SOCK`), or keys the
 * session serves as an agent itself.
 */
export type SshAgentSource =
  | {
    /** The agent's socket path (default `$SSH_AUTH_SOCK`). */
    readonly socket?: string | undefined
  }
  | {
    /** Keys the session serves as an agent, without a running agent. */
    readonly keys: ReadonlyArray<SshKeySource>
  }

/** What an id forwards, ready to serve. */
export type SshAgent =
  | { readonly _tag: "Socket"; readonly path: string | undefined }
  | { readonly _tag: "Keys"; readonly keys: ReadonlyArray<SshPrivateKey> }

let bcryptPbkdf: Promise<BcryptPbkdf> | undefined

/** `bcrypt-pbkdf`'s C-style `pbkdf(pass, passlen, salt, saltlen, key, keylen, rounds)` as a function. */
const loadBcrypt = (): Promise<BcryptPbkdf> =>
  bcryptPbkdf ??= import("bcrypt-pbkdf").then((module) => {
    const { pbkdf } = (module.default ?? module) as typeof import("bcrypt-pbkdf")
    return (passphrase, salt, rounds, length) => {
      const out = new Uint8Array(length)
      // -1: an empty passphrase or salt, which cannot have encrypted the key.
      if (pbkdf(passphrase, passphrase.length, salt, salt.length, out, length, rounds) !== 0) {
        throw new SshKeyParseError("WrongPassphrase", "the passphrase does not decrypt the key")
      }
      return out
    }
  })

const loadKey = (id: string, source: SshKeySource, index: number): Effect.Effect<SshPrivateKey, SshKeyError> => {
  const name = "file" in source ? source.file : `key ${index + 1}`
  const fail = (problem: SshKeyError["problem"], reason: string) =>
    new SshKeyError({
      operation: "ImageBuild",
      id,
      key: name,
      problem,
      message: `ImageBuild: ssh ${id}: ${name}: ${reason}`
    })
  return Effect.gen(function*() {
    const text = "file" in source
      ? yield* Effect.tryPromise({
        try: () => readFile(source.file, "utf8"),
        catch: (error) => fail("Unreadable", `cannot read it (${(error as { code?: string }).code ?? "error"})`)
      })
      : Redacted.value(source.key)
    const passphrase = source.passphrase === undefined
      ? undefined
      : new TextEncoder().encode(Redacted.value(source.passphrase))
    const bcrypt = passphrase !== undefined && isEncryptedOpenSshKey(text)
      ? yield* Effect.promise(loadBcrypt)
      : undefined
    return yield* Effect.try({
      // A PEM key carries no comment: listed by its file's path, as `ssh-add` does.
      try: () => parseSshPrivateKey(text, { passphrase, bcrypt, comment: "file" in source ? source.file : "" }),
      catch: (error) =>
        error instanceof SshKeyParseError ? fail(error.problem, error.message) : fail("NotAKey", "a malformed key")
    })
  })
}

/** Every id's agent, keys read and parsed; `true` is `default` forwarding `$SSH_AUTH_SOCK`. */
export const sshAgents = (
  ssh: true | Readonly<Record<string, SshAgentSource>>,
  env: Readonly<Record<string, string | undefined>>
): Effect.Effect<Map<string, SshAgent>, SshKeyError> => {
  const entries: ReadonlyArray<[string, SshAgentSource]> = ssh === true ? [["default", {}]] : Object.entries(ssh)
  return Effect.map(
    Effect.forEach(entries, ([id, source]) =>
      "keys" in source
        ? Effect.map(
          Effect.forEach(source.keys, (key, index) => loadKey(id, key, index)),
          (keys): [string, SshAgent] => [id, { _tag: "Keys", keys }]
        )
        : Effect.succeed<[string, SshAgent]>([id, { _tag: "Socket", path: source.socket ?? env["SSH_AUTH_SOCK"] }])),
    (agents) => new Map(agents)
  )
}

const sameBytes = (a: Uint8Array, b: Uint8Array) => a.length === b.length && a.every((byte, i) => byte === b[i])

/**
 * An in-memory agent for `keys`: feed it what the client sends, in any chunking; it returns the
 * answers to send back. A malformed length throws (`SshWireError`): the stream is then ended.
 */
export const keyAgent = (keys: ReadonlyArray<SshPrivateKey>) => {
  const reader = new AgentMessageReader()
  return (chunk: Uint8Array): Array<Uint8Array> =>
    reader.push(chunk).map((body) => {
      const request = agentRequest(body)
      if (request._tag === "RequestIdentities") return identitiesAnswer(keys)
      if (request._tag === "SignRequest") {
        const key = keys.find((k) => sameBytes(k.blob, request.key))
        if (key === undefined) return agentFailure()
        try {
          return signResponse(key.sign(request.data, request.flags))
        } catch {
          return agentFailure() // a hash this OpenSSL refuses (SHA-1 under a strict policy)
        }
      }
      return agentFailure()
    })
}
