/**
 * A tiny registry v1 search endpoint on 127.0.0.1 (what `GET /images/search` asks; the v2 registry
 * has none): answers `/v1/_ping` and `/v1/search?q=…&n=…`, and records the requests it got (with
 * their `Authorization` header) so a test can see what the daemon forwarded.
 */
import { Effect, type Scope } from "effect"
import { createServer, type IncomingHttpHeaders } from "node:http"
import type { AddressInfo } from "node:net"

export interface SearchRequest {
  readonly path: string
  readonly query: URLSearchParams
  readonly headers: IncomingHttpHeaders
}

export interface FakeSearchServer {
  /** `127.0.0.1:<port>`: qualify search terms with it (`127.0.0.1:<port>/busybox`). */
  readonly host: string
  readonly requests: ReadonlyArray<SearchRequest>
}

export interface SearchResult {
  readonly name: string
  readonly description: string
  readonly star_count: number
  readonly is_official: boolean
  readonly is_automated: boolean
}

/** Serves `results` (filtered by `q` as a substring of the name) until the scope closes. */
export const fakeSearchServer = (
  results: ReadonlyArray<SearchResult>
): Effect.Effect<FakeSearchServer, never, Scope.Scope> =>
  Effect.acquireRelease(
    Effect.callback<{ server: ReturnType<typeof createServer>; api: FakeSearchServer }>((resume) => {
      const requests: Array<SearchRequest> = []
      const server = createServer((req, res) => {
        const url = new URL(req.url ?? "/", "http://127.0.0.1")
        requests.push({ path: url.pathname, query: url.searchParams, headers: req.headers })
        res.setHeader("content-type", "application/json")
        if (url.pathname === "/v1/_ping") return res.end("true")
        if (url.pathname !== "/v1/search") {
          res.statusCode = 404
          return res.end("{}")
        }
        const q = url.searchParams.get("q") ?? ""
        const n = Number(url.searchParams.get("n") ?? "25")
        const found = results.filter((r) => r.name.includes(q)).slice(0, n)
        res.end(JSON.stringify({ num_results: found.length, query: q, results: found }))
      })
      server.listen(0, "127.0.0.1", () => {
        const port = (server.address() as AddressInfo).port
        resume(Effect.succeed({ server, api: { host: `127.0.0.1:${port}`, requests } }))
      })
    }),
    ({ server }) =>
      Effect.callback<void>((resume) => {
        server.closeAllConnections()
        server.close(() => resume(Effect.void))
      })
  ).pipe(Effect.map(({ api }) => api))
