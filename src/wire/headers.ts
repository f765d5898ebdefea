/** HTTP header values as Node hands them over (a string, or an array for a repeated header). */

/** The first value of header `name` (lower-case), if the answer has it. */
export const firstHeader = (
  headers: Readonly<Record<string, string | ReadonlyArray<string> | undefined>>,
  name: string
): string | undefined => {
  const value = headers[name]
  return typeof value === "string" ? value : value?.[0]
}
