// dockerode's `listContainers`. A child of bench/startup.ts.
import { docker } from "./dockerode-common.js"

const list = await docker.listContainers({ all: true })
console.log(`OK ${list.length} containers`)
