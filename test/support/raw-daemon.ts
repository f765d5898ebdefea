/**
 * Minimal direct requests to a daemon for the suite's own housekeeping (reachability check,
 * removing what a crashed run left). Deliberately independent of the library under test.
 */
import { request } from "undici"

export const socketPath = (host: string): string => {
  if (!host.startsWith("unix://")) throw new Error(`test engines must be unix sockets, got ${host}`)
  return host.slice("unix://".length)
}

export const rawRequest = async (
  host: string,
  method: "GET" | "POST" | "DELETE" | "HEAD",
  path: string,
  timeoutMs = 10_000
): Promise<{ status: number; body: string }> => {
  const { Agent } = await import("undici")
  const dispatcher = new Agent({ connect: { socketPath: socketPath(host) } })
  try {
    const response = await request(`http://docker${path}`, {
      method,
      dispatcher,
      signal: AbortSignal.timeout(timeoutMs)
    })
    return { status: response.statusCode, body: await response.body.text() }
  } finally {
    await dispatcher.close()
  }
}
