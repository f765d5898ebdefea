/**
 * Issue #13's three-node proof, scheduling half: a swarm of the test bed's three nodes
 * (test/support/cluster.ts: node 1 manager, nodes 2 and 3 workers), and what its scheduler does with
 * services, driven through the Services and Nodes services against the manager.
 *
 * Measured here (logged by each test; numbers of the runs are in bench/README.md, "Three-node swarm"):
 * the spread of 6 replicas and the time from `Nodes.drain` to its tasks running elsewhere.
 */
import { afterAll, describe, expect, layer } from "@effect/vitest"
import { Effect } from "effect"
import { Nodes, Services, System } from "../../../src/index.js"
import {
  CLUSTER_READS,
  clusterComparedOperations,
  clusterDifferences,
  convergedOn,
  onNode,
  runningPerNode,
  scopedService,
  sleeperSpec,
  taskHistory,
  ThreeNodeCluster,
  threeNodeClusterLayer
} from "../../support/cluster.js"
import { runId } from "../../support/labels.js"
import { pollUntil } from "../../support/resources.js"

describe("a three-node swarm", () => {
  // Every read of the file decoded losslessly, the swarm reads among them.
  afterAll(() => expect(clusterDifferences()).toEqual([]))
  afterAll(() => expect([...clusterComparedOperations()]).toEqual(expect.arrayContaining(CLUSTER_READS)))

  layer(threeNodeClusterLayer, { excludeTestServices: true, timeout: "300 seconds" })("scheduling", (it) => {
    it.effect("6 replicas spread 2/2/2 over the three nodes", () =>
      Effect.gen(function*() {
        const { nodes } = yield* ThreeNodeCluster
        const manager = nodes[0]
        const t0 = Date.now()
        const id = yield* scopedService(manager, sleeperSpec("spread", 6))
        yield* convergedOn(manager, id)
        const spread = yield* runningPerNode(manager, id, nodes)
        yield* Effect.log(`spread ${spread.join("/")}, converged ${Date.now() - t0} ms after create`)
        expect(spread).toEqual([2, 2, 2])
      }))

    it.effect("a worker refuses the manager's calls with NotAManager, and knows its own swarm state", () =>
      Effect.gen(function*() {
        const { nodes } = yield* ThreeNodeCluster
        const worker = nodes[1]
        const refused = yield* onNode(worker, Effect.flip(Effect.flatMap(Services, (services) => services.list())))
        expect(refused._tag).toBe("NotAManager")
        const nodeList = yield* onNode(worker, Effect.flip(Effect.flatMap(Nodes, (nodesApi) => nodesApi.list())))
        expect(nodeList._tag).toBe("NotAManager")
        const info = yield* onNode(worker, Effect.flatMap(System, (system) => system.info()))
        expect(info.Swarm?.LocalNodeState).toBe("active")
        expect(info.Swarm?.ControlAvailable).toBe(false)
        expect(info.Swarm?.NodeID).toBe(worker.nodeId)
        expect(info.Swarm?.RemoteManagers).toEqual([{ NodeID: nodes[0].nodeId, Addr: nodes[0].swarmAddr }])
      }))

    it.effect("draining a node moves its tasks to the others, and none come back to it until activated", () =>
      Effect.gen(function*() {
        const { nodes } = yield* ThreeNodeCluster
        const [manager, , drained] = nodes
        const id = yield* scopedService(manager, sleeperSpec("drain", 6))
        yield* convergedOn(manager, id)
        expect(yield* runningPerNode(manager, id, nodes)).toEqual([2, 2, 2])

        yield* onNode(
          manager,
          Effect.gen(function*() {
            const nodesApi = yield* Nodes
            const t0 = Date.now()
            yield* Effect.acquireRelease(
              nodesApi.drain(drained.nodeId),
              () => nodesApi.activate(drained.nodeId).pipe(Effect.timeout("30 seconds"), Effect.ignore)
            )
            expect((yield* nodesApi.inspect(drained.nodeId)).Spec?.Availability).toBe("drain")
            const spread = yield* pollUntil(
              runningPerNode(manager, id, nodes),
              (perNode) => perNode[2] === 0 && perNode[0]! + perNode[1]! === 6,
              { within: "60 seconds", every: "200 millis", what: "the drained node's tasks running elsewhere" }
            )
            yield* Effect.log(`drain: tasks ${spread.join("/")} ${Date.now() - t0} ms after the drain`)
            expect(spread).toEqual([3, 3, 0])
            // What the drained node ran is shut down, not merely forgotten.
            const onDrained = (yield* taskHistory(manager, id)).filter((t) => t.NodeID === drained.nodeId)
            expect(onDrained.length).toBe(2)
            expect(onDrained.every((t) => t.DesiredState === "shutdown")).toBe(true)
          })
        )
      }))

    it.effect("node labels and a placement constraint pin every task to the labelled node", () =>
      Effect.gen(function*() {
        const { nodes } = yield* ThreeNodeCluster
        const [manager, pinned] = nodes
        const zone = `pinned-${runId()}`
        yield* onNode(
          manager,
          Effect.gen(function*() {
            const nodesApi = yield* Nodes
            yield* Effect.acquireRelease(
              nodesApi.addLabels(pinned.nodeId, { "ed.zone": zone }),
              () => nodesApi.removeLabels(pinned.nodeId, ["ed.zone"]).pipe(Effect.timeout("30 seconds"), Effect.ignore)
            )
            expect((yield* nodesApi.inspect(pinned.nodeId)).Spec?.Labels?.["ed.zone"]).toBe(zone)
          })
        )
        const id = yield* scopedService(
          manager,
          sleeperSpec("pinned", 4, { constraints: [`node.labels.ed.zone==${zone}`] })
        )
        yield* convergedOn(manager, id)
        expect(yield* runningPerNode(manager, id, nodes)).toEqual([0, 4, 0])
        const inspected = yield* onNode(manager, Effect.flatMap(Services, (services) => services.inspect(id)))
        expect(inspected.Spec?.TaskTemplate?.Placement?.Constraints).toEqual([`node.labels.ed.zone==${zone}`])
      }))

    it.effect("a rolling update with Parallelism 1 replaces the tasks one by one", () =>
      Effect.gen(function*() {
        const { nodes } = yield* ThreeNodeCluster
        const manager = nodes[0]
        const id = yield* scopedService(
          manager,
          sleeperSpec("rolling", 3, {
            env: { GENERATION: "1" },
            updateConfig: {
              Parallelism: 1,
              Delay: 0,
              Order: "stop-first",
              Monitor: 1_000_000_000,
              FailureAction: "pause"
            }
          })
        )
        yield* onNode(
          manager,
          Effect.gen(function*() {
            const services = yield* Services
            yield* services.converged(id, { timeout: "60 seconds" })
            const before = yield* taskHistory(manager, id)
            expect(before.length).toBe(3)
            const t0 = Date.now()
            yield* services.update(id, { TaskTemplate: { ContainerSpec: { Env: ["GENERATION=2"] } } })
            yield* services.converged(id, { timeout: "120 seconds" })
            yield* Effect.log(`rolling update of 3 tasks (Parallelism 1): ${Date.now() - t0} ms`)
            const inspected = yield* services.inspect(id)
            expect(inspected.UpdateStatus?.State).toBe("completed")
            expect(inspected.Spec?.TaskTemplate?.ContainerSpec?.Env).toEqual(["GENERATION=2"])
          })
        )
        // The history: three old tasks shut down and three new ones running, one slot at a time:
        // each new task was created only after the one before it was running.
        const history = yield* taskHistory(manager, id)
        const env = (t: (typeof history)[number]) => t.Spec?.ContainerSpec?.Env ?? []
        const replaced = history.filter((t) => env(t).includes("GENERATION=1"))
        const replacements = history.filter((t) => env(t).includes("GENERATION=2"))
          .sort((a, b) => Date.parse(a.CreatedAt!) - Date.parse(b.CreatedAt!))
        expect(replaced.length).toBe(3)
        expect(replaced.every((t) => t.DesiredState === "shutdown")).toBe(true)
        expect(replacements.map((t) => t.Status?.State)).toEqual(["running", "running", "running"])
        expect(new Set(replacements.map((t) => t.Slot)).size).toBe(3)
        for (let i = 1; i < replacements.length; i++) {
          const previousRunning = Date.parse(replacements[i - 1]!.Status!.Timestamp!)
          expect(Date.parse(replacements[i]!.CreatedAt!)).toBeGreaterThanOrEqual(previousRunning)
        }
      }))

    it.effect("a failing update with FailureAction rollback rolls back to the previous spec", () =>
      Effect.gen(function*() {
        const { nodes } = yield* ThreeNodeCluster
        const manager = nodes[0]
        const id = yield* scopedService(
          manager,
          sleeperSpec("rollback", 3, {
            updateConfig: {
              Parallelism: 1,
              Delay: 0,
              FailureAction: "rollback",
              Monitor: 3_000_000_000,
              MaxFailureRatio: 0
            },
            rollbackConfig: { Parallelism: 0, Delay: 0, Monitor: 1_000_000_000, FailureAction: "pause" },
            restartPolicy: { Condition: "none" }
          })
        )
        yield* onNode(
          manager,
          Effect.gen(function*() {
            const services = yield* Services
            yield* services.converged(id, { timeout: "60 seconds" })
            // The new tasks exit at once: the update fails within its monitor window.
            yield* services.update(id, { TaskTemplate: { ContainerSpec: { Command: ["sh", "-c", "exit 3"] } } })
            const t0 = Date.now()
            const rolledBack = yield* pollUntil(
              services.inspect(id),
              (s) => s.UpdateStatus?.State === "rollback_completed",
              { within: "120 seconds", every: "250 millis", what: "the update rolled back" }
            )
            yield* Effect.log(`failed update rolled back ${Date.now() - t0} ms after the update`)
            expect(rolledBack.Spec?.TaskTemplate?.ContainerSpec?.Command).toEqual(["sleep", "3600"])
            expect(rolledBack.UpdateStatus?.Message).toBe("rollback completed")
            yield* services.converged(id, { timeout: "60 seconds" })
          })
        )
        const history = yield* taskHistory(manager, id)
        const failed = history.filter((t) => t.Spec?.ContainerSpec?.Command?.[0] === "sh")
        expect(failed.length).toBeGreaterThan(0)
        expect(
          failed.every((t) =>
            t.Status?.State === "failed" || t.Status?.State === "complete" || t.DesiredState === "shutdown"
          )
        )
          .toBe(true)
        const wanted = history.filter((t) => t.DesiredState === "running")
        expect(wanted.map((t) => t.Status?.State)).toEqual(["running", "running", "running"])
        expect(wanted.every((t) => t.Spec?.ContainerSpec?.Command?.[0] === "sleep")).toBe(true)
      }))
  })
})
