/** Why packing failed: the local path, the system code and the reason (turned into each caller's error). */
export class PackFailure {
  constructor(readonly path: string, readonly code: string, readonly reason: string) {}
}

export const failureOf = (path: string, error: unknown): PackFailure => {
  if (error instanceof PackFailure) return error
  const code = (error as { code?: unknown } | null)?.code
  return new PackFailure(
    path,
    typeof code === "string" ? code : "EIO",
    error instanceof Error ? error.message : String(error)
  )
}
