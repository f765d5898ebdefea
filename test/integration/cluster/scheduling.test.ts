/**
 * Issue #13's three-node proof, scheduling half: a swarm of the test bed's three nodes
 * (test/support/cluster.ts), and what its scheduler does with services.
 */
import { describe, expect, layer } from "@effect/vitest"
import { Effect } from "effect"
import { ServiceCreate } from "../../../src/generated/operations/service/ServiceCreate.js"
import { ServiceDelete } from "../../../src/generated/operations/service/ServiceDelete.js"
import { TaskList } from "../../../src/generated/operations/task/TaskList.js"
import { ThreeNodeCluster, threeNodeClusterLayer } from "../../support/cluster.js"
import { testLabels } from "../../support/labels.js"
import { pollUntil, TEST_IMAGE, uniqueName } from "../../support/resources.js"

describe("a three-node swarm", () => {
  layer(threeNodeClusterLayer, { excludeTestServices: true, timeout: "180 seconds" })("scheduling", (it) => {
    it.effect("6 replicas spread 2/2/2", () =>
      Effect.gen(function*() {
        const { nodes } = yield* ThreeNodeCluster
        const manager = nodes[0].engine
        const name = uniqueName("spread")
        const created = yield* Effect.acquireRelease(
          manager.json(ServiceCreate, {
            body: {
              Name: name,
              Labels: testLabels(),
              TaskTemplate: { ContainerSpec: { Image: TEST_IMAGE, Command: ["sleep", "600"], Labels: testLabels() } },
              Mode: { Replicated: { Replicas: 6 } }
            }
          }),
          (s) => manager.empty(ServiceDelete, { id: s.Id }).pipe(Effect.ignore)
        )
        const t0 = Date.now()
        const tasks = yield* pollUntil(
          manager.json(TaskList, { filters: { service: [created.Id], "desired-state": ["running"] } }),
          (list) => list.filter((t) => t.Status?.State === "running").length === 6,
          { within: "60 seconds", every: "250 millis", what: "6 running tasks" }
        )
        const perNode = nodes.map((node) => tasks.filter((t) => t.NodeID === node.nodeId).length)
        yield* Effect.log(`spread ${perNode.join("/")} after ${Date.now() - t0} ms`)
        expect(perNode).toEqual([2, 2, 2])
      }))
  })
})
