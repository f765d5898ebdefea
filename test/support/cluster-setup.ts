/**
 * Once for the `cluster` project: fail fast (never skip) when a node of the test bed's cluster is not
 * configured or does not answer, saying how to start it.
 */
import { clusterTargets, HOW_TO_START_CLUSTER } from "./cluster.js"
import { rawRequest } from "./raw-daemon.js"

export default async function setup() {
  for (const node of clusterTargets()) {
    try {
      const ping = await rawRequest(node.host, "GET", "/_ping", 5_000)
      if (ping.status !== 200) throw new Error(`/_ping answered HTTP ${ping.status}`)
    } catch (error) {
      throw new Error(
        `The three-node swarm tests need cluster node ${node.index} at ${node.host}, which is not reachable ` +
          `(${error instanceof Error ? error.message : String(error)}). ${HOW_TO_START_CLUSTER}`
      )
    }
  }
}
