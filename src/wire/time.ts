/** Times as the daemon reads them in query parameters (`since`, `until`): Unix seconds. */

/** Unix seconds (fractions kept) of a `Date`, or the number as given. */
export const unixSeconds = (time: number | Date): number => typeof time === "number" ? time : time.getTime() / 1000
