/**
 * Evaluated first by `src/index.ts`, before anything that needs a newer Node: undici 8 fails on an
 * older one while it is being imported, with `Cannot read properties of undefined (reading
 * 'bind')`, which says nothing about the cause. No imports, so nothing runs before the check.
 */
const REQUIRED = [22, 19] as const

const [major = 0, minor = 0] = (globalThis.process?.versions?.node ?? "0.0").split(".").map(Number)
if (major < REQUIRED[0] || (major === REQUIRED[0] && minor < REQUIRED[1])) {
  throw new Error(
    `effect-docker needs Node.js ${REQUIRED.join(".")} or newer (its HTTP client, undici 8, does); ` +
      `this is Node.js ${globalThis.process?.version ?? "unknown"}`
  )
}

export {}
