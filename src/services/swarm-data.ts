/**
 * What secrets and configs share: their data goes to the daemon base64-encoded (done here, from a
 * string as UTF-8 or from bytes), and an update may change only their labels — the rest of the
 * spec is sent back as it is, at the object's current version.
 */
import type * as Effect from "effect/Effect"
import { updateAtCurrentVersion } from "./versioned-update.js"

/** A secret's or config's content: text (sent as UTF-8) or bytes. */
export type SwarmData = string | Uint8Array

/** `data` as the `Data` field of a secret or config spec. */
export const encodeData = (data: SwarmData): string =>
  (typeof data === "string" ? Buffer.from(data, "utf8") : Buffer.from(data.buffer, data.byteOffset, data.byteLength))
    .toString("base64")

/** The options of a labels update. */
export interface SwarmDataUpdate {
  /** The labels the object carries afterwards (all of them: `{}` removes every label). */
  readonly labels: Readonly<Record<string, string>>
}

/** Replaces the labels of the object `inspect` returns, at its current version. */
export const updateLabels = <S extends { readonly Labels?: unknown }, E, E2>(
  inspect: Effect.Effect<
    { readonly Spec?: S | null | undefined; readonly Version?: { readonly Index?: number } | null | undefined },
    E
  >,
  write: (spec: S, version: number) => Effect.Effect<void, E2>,
  update: SwarmDataUpdate
): Effect.Effect<void, E | E2> =>
  updateAtCurrentVersion(
    inspect,
    (current, version) => write({ ...(current.Spec ?? {}) as S, Labels: update.labels }, version)
  )
