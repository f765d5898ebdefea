/**
 * Once for the `cluster` project: fail fast (never skip) when a node of the test bed's cluster is not
 * configured or does not answer, saying how to start it. A node whose daemon a crashed run killed
 * (and never restarted) is started again first, when this process may (root).
 */
import { Effect } from "effect"
import { clusterTargets, HOW_TO_START_CLUSTER, startClusterDaemons } from "./cluster.js"
import { rawRequest } from "./raw-daemon.js"

const unreachable = async (): Promise<Array<string>> => {
  const problems: Array<string> = []
  for (const node of clusterTargets()) {
    try {
      const ping = await rawRequest(node.host, "GET", "/_ping", 5_000)
      if (ping.status !== 200) problems.push(`node ${node.index} at ${node.host}: /_ping answered HTTP ${ping.status}`)
    } catch (error) {
      problems.push(`node ${node.index} at ${node.host}: ${error instanceof Error ? error.message : String(error)}`)
    }
  }
  return problems
}

export default async function setup() {
  let problems = await unreachable()
  if (problems.length > 0 && process.getuid?.() === 0) {
    await Effect.runPromise(startClusterDaemons)
    problems = await unreachable()
  }
  if (problems.length > 0) {
    throw new Error(
      `The three-node swarm tests need the test bed's cluster (${problems.join("; ")}). ${HOW_TO_START_CLUSTER}`
    )
  }
}
