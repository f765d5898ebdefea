/** Response headers as Node hands them over: lower-case names, a string or an array for a repeated header. */
export type HeaderMap = Readonly<Record<string, string | ReadonlyArray<string> | undefined>>

/** The first value of header `name` (lower-case), if the answer has it. */
export const firstHeader = (
  headers: HeaderMap,
  name: string
): string | undefined => {
  const value = headers[name]
  return typeof value === "string" ? value : value?.[0]
}
