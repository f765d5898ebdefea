/**
 * Throwaway Docker CLI configuration directories (config.json, the context store's meta.json and
 * TLS material), laid out as the CLI lays them out, for the context and engine-options tests.
 */
import { createHash } from "node:crypto"
import { chmodSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"

const roots: Array<string> = []

/** A fresh temporary directory, removed by `removeConfigDirs`. */
export const tempDir = (prefix: string): string => {
  const dir = mkdtempSync(join(tmpdir(), prefix))
  roots.push(dir)
  return dir
}

/** Removes every directory `configDir` made (call it in `afterAll`). */
export const removeConfigDirs = (): void => {
  for (const root of roots.splice(0)) rmSync(root, { recursive: true, force: true })
}

/** A throwaway DOCKER_CONFIG directory, laid out like the CLI's. */
export const configDir = (
  setup: {
    readonly currentContext?: string
    readonly config?: string
    readonly contexts?: Record<string, { host?: string; skipTLSVerify?: boolean; tls?: Record<string, string> }>
  } = {}
): string => {
  const dir = tempDir("effect-docker-ctx-")
  if (setup.config !== undefined) writeFileSync(join(dir, "config.json"), setup.config)
  else if (setup.currentContext !== undefined) {
    writeFileSync(join(dir, "config.json"), JSON.stringify({ auths: {}, currentContext: setup.currentContext }))
  }
  for (const [name, context] of Object.entries(setup.contexts ?? {})) {
    const digest = createHash("sha256").update(name).digest("hex")
    const meta = join(dir, "contexts", "meta", digest)
    mkdirSync(meta, { recursive: true })
    writeFileSync(
      join(meta, "meta.json"),
      JSON.stringify({
        Name: name,
        Metadata: { Description: "test" },
        Endpoints: {
          docker: {
            ...(context.host !== undefined ? { Host: context.host } : {}),
            SkipTLSVerify: context.skipTLSVerify ?? false
          }
        }
      })
    )
    if (context.tls !== undefined) {
      const tls = join(dir, "contexts", "tls", digest, "docker")
      mkdirSync(tls, { recursive: true })
      for (const [file, text] of Object.entries(context.tls)) writeFileSync(join(tls, file), text)
    }
  }
  return dir
}

/** Placeholder PEM files: what matters is that they are read and passed through, never printed. */
export const PEM = {
  "ca.pem": "-----BEGIN CERTIFICATE-----\nca\n-----END CERTIFICATE-----\n",
  "cert.pem": "-----BEGIN CERTIFICATE-----\ncert\n-----END CERTIFICATE-----\n",
  "key.pem": "-----BEGIN PRIVATE KEY-----\nkey\n-----END PRIVATE KEY-----\n"
}

/**
 * Writes into `dir` a `docker-credential-<name>` script answering `get` for `registry` with
 * `username`/`secret` (and "credentials not found" for any other server), and a config.json whose
 * `credHelpers` names it for that registry. Put `dir` first on the helper environment's `PATH`.
 */
export const writeCredentialHelper = (
  dir: string,
  helper: { readonly name: string; readonly registry: string; readonly username: string; readonly secret: string }
): void => {
  const script = join(dir, `docker-credential-${helper.name}`)
  writeFileSync(
    script,
    `#!/bin/sh\n[ "$1" = get ] || exit 1\nread server\n` +
      `[ "$server" = "${helper.registry}" ] || { echo "credentials not found in native keychain"; exit 1; }\n` +
      `printf '{"ServerURL":"%s","Username":"${helper.username}","Secret":"${helper.secret}"}' "$server"\n`
  )
  chmodSync(script, 0o755)
  writeFileSync(join(dir, "config.json"), JSON.stringify({ credHelpers: { [helper.registry]: helper.name } }))
}
