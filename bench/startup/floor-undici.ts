// Floor: `effect/Effect` and one `runPromise` around an undici Pool ping. A child of bench/startup.ts.
import * as Effect from "effect/Effect"
import { Pool } from "undici"

const host = process.env.DOCKER_HOST ?? "unix:///var/run/docker.sock"
const pool = new Pool("http://docker", { connect: { socketPath: host.replace(/^unix:\/\//, "") } })
const body = await Effect.runPromise(
  Effect.promise(() => pool.request({ method: "GET", path: "/_ping" }).then((r) => r.body.text()))
)
console.log(`OK ${body}`)
await pool.close()
