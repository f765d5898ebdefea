// dockerode's ping program. A child of bench/startup.ts.
import { docker } from "./dockerode-common.js"

const answer = await docker.ping()
console.log(`OK ${String(answer)}`)
