// Floor: `effect/Effect` imported and one `runPromise`. A child of bench/startup.ts.
import * as Effect from "effect/Effect"

console.log(`OK ${await Effect.runPromise(Effect.succeed(1))}`)
