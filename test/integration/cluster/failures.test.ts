/**
 * Issue #13's three-node proof, failure half: daemons of the test bed's cluster killed (SIGKILL)
 * under a running swarm (test/support/cluster.ts), and what the swarm and the client do about it.
 * Every killed daemon is started again in a finalizer (scripts/engines.sh cluster start), and waited
 * for until it is back in the swarm, so the next test (and the cluster's teardown) finds all three.
 *
 * Measured here (logged by each test; numbers of the runs are in bench/README.md, "Three-node swarm"):
 * how long after a worker's death the manager reports it down and its tasks run elsewhere, and how
 * long three managers take to elect a new leader after the leader's death.
 */
import { afterAll, describe, expect, layer } from "@effect/vitest"
import { Effect } from "effect"
import { Nodes, Services, Swarm, System } from "../../../src/index.js"
import {
  CLUSTER_READS,
  clusterComparedOperations,
  clusterDifferences,
  type ClusterNode,
  convergedOn,
  killDaemon,
  localNodeState,
  onNode,
  runningPerNode,
  scopedService,
  sleeperSpec,
  startClusterDaemons,
  ThreeNodeCluster,
  threeNodeClusterLayer
} from "../../support/cluster.js"
import { testLabels } from "../../support/labels.js"
import { pollUntil } from "../../support/resources.js"

/**
 * Kills `victim`'s daemon; when the scope closes, starts it again and waits until `observer` (a
 * manager) sees it ready (and, for a manager, reachable) again.
 */
const killedUntilScopeEnds = (victim: ClusterNode, observer: () => ClusterNode) =>
  Effect.acquireRelease(killDaemon(victim), () =>
    Effect.gen(function*() {
      yield* startClusterDaemons
      yield* pollUntil(localNodeState(victim.engine), (state) => state === "active", {
        within: "60 seconds",
        every: "250 millis",
        what: `node ${victim.index} back in the swarm`
      })
      yield* pollUntil(
        onNode(observer(), Effect.flatMap(Nodes, (nodes) => nodes.inspect(victim.nodeId))),
        (node) =>
          node.Status?.State === "ready" &&
          (node.ManagerStatus == null || node.ManagerStatus.Reachability === "reachable"),
        { within: "60 seconds", every: "250 millis", what: `node ${victim.index} ready again` }
      )
    }).pipe(
      Effect.timeout("150 seconds"),
      Effect.catch((error) => Effect.logWarning(`could not bring node ${victim.index} back: ${String(error)}`))
    ))

describe("a three-node swarm", () => {
  // Every read of the file decoded losslessly, the swarm reads among them.
  afterAll(() => expect(clusterDifferences()).toEqual([]))
  afterAll(() => expect([...clusterComparedOperations()]).toEqual(expect.arrayContaining(CLUSTER_READS)))

  layer(threeNodeClusterLayer, { excludeTestServices: true, timeout: "400 seconds" })("failures", (it) => {
    it.effect("a worker's daemon killed: reported down, its tasks rescheduled, the manager unaffected", () =>
      Effect.gen(function*() {
        const { nodes } = yield* ThreeNodeCluster
        const [manager, , victim] = nodes
        const id = yield* scopedService(manager, sleeperSpec("worker-death", 6))
        yield* convergedOn(manager, id)
        expect(yield* runningPerNode(manager, id, nodes)).toEqual([2, 2, 2])

        yield* killedUntilScopeEnds(victim, () => manager)
        const t0 = Date.now()
        yield* onNode(
          manager,
          Effect.gen(function*() {
            const nodesApi = yield* Nodes
            const down = yield* pollUntil(
              nodesApi.inspect(victim.nodeId),
              (node) => node.Status?.State === "down",
              { within: "60 seconds", every: "200 millis", what: `node ${victim.index} down` }
            )
            const downAfter = Date.now() - t0
            expect(down.Spec?.Availability).toBe("active")
            const spread = yield* pollUntil(
              runningPerNode(manager, id, nodes),
              (perNode) => perNode[0]! + perNode[1]! === 6,
              { within: "90 seconds", every: "200 millis", what: "the dead node's tasks running elsewhere" }
            )
            yield* Effect.log(
              `worker death: down after ${downAfter} ms, tasks ${spread.join("/")} on the living nodes ` +
                `${Date.now() - t0} ms after the kill`
            )
            expect(spread).toEqual([3, 3, 0])
            // The manager answers as before: the swarm, its nodes and the service's convergence.
            const swarm = yield* Effect.flatMap(Swarm, (swarmApi) => swarmApi.inspect())
            expect(swarm.Spec?.Labels).toEqual(testLabels())
            const states = (yield* nodesApi.list()).map((node) => [node.ID, node.Status?.State])
            expect(Object.fromEntries(states)).toEqual({
              [nodes[0].nodeId]: "ready",
              [nodes[1].nodeId]: "ready",
              [victim.nodeId]: "down"
            })
            const seen = yield* Effect.flatMap(
              Services,
              (services) => services.converged(id, { timeout: "30 seconds" })
            )
            expect(seen.running).toBe(6)
          })
        )
      }))

    it.effect("three managers: the leader's daemon killed, a new leader is elected and a surviving manager serves on", () =>
      Effect.gen(function*() {
        const { nodes } = yield* ThreeNodeCluster
        const [leader, survivor, third] = nodes
        yield* onNode(
          leader,
          Effect.gen(function*() {
            const nodesApi = yield* Nodes
            yield* nodesApi.promote(survivor.nodeId)
            yield* nodesApi.promote(third.nodeId)
            const managers = yield* pollUntil(
              nodesApi.list({ filters: { role: ["manager"] } }),
              (list) => list.length === 3 && list.every((n) => n.ManagerStatus?.Reachability === "reachable"),
              { within: "60 seconds", every: "250 millis", what: "three reachable managers" }
            )
            expect(managers.filter((n) => n.ManagerStatus?.Leader === true).map((n) => n.ID)).toEqual([leader.nodeId])
          })
        )
        // Each promoted node serves as a manager itself (it answers 503 "Manager is being prepared" before).
        for (const node of [survivor, third]) {
          yield* pollUntil(
            onNode(node, Effect.flatMap(System, (system) => system.info())),
            (info) => info.Swarm?.ControlAvailable === true,
            { within: "60 seconds", every: "250 millis", what: `node ${node.index} a manager` }
          )
        }
        const id = yield* scopedService(survivor, sleeperSpec("leader-death", 3))
        yield* convergedOn(survivor, id)

        // A layer pointed at a surviving manager (node 2) is what the client keeps using.
        yield* killedUntilScopeEnds(leader, () => survivor)
        const t0 = Date.now()
        yield* onNode(
          survivor,
          Effect.gen(function*() {
            const nodesApi = yield* Nodes
            const elected = yield* pollUntil(
              nodesApi.list({ filters: { role: ["manager"] } }).pipe(Effect.option),
              (list) =>
                list._tag === "Some" &&
                list.value.some((n) => n.ID !== leader.nodeId && n.ManagerStatus?.Leader === true),
              { within: "90 seconds", every: "250 millis", what: "a new leader" }
            )
            const electedAfter = Date.now() - t0
            const newLeader = elected._tag === "Some"
              ? elected.value.find((n) => n.ManagerStatus?.Leader === true)!.ID
              : undefined
            expect([survivor.nodeId, third.nodeId]).toContain(newLeader)
            // Calls through the surviving manager work: reads, a new service scheduled and run.
            const info = yield* Effect.flatMap(System, (system) => system.info())
            expect(info.Swarm?.ControlAvailable).toBe(true)
            const services = yield* Services
            yield* services.converged(id, { timeout: "90 seconds" })
            const created = yield* scopedService(survivor, sleeperSpec("after-election", 2))
            const seen = yield* services.converged(created, { timeout: "60 seconds" })
            expect(seen.running).toBe(2)
            const perNode = yield* runningPerNode(survivor, created, nodes)
            expect(perNode[0]).toBe(0)
            yield* Effect.log(
              `leader death: new leader after ${electedAfter} ms; a new service ran ${
                Date.now() - t0
              } ms after the kill`
            )
            const downLeader = yield* pollUntil(
              nodesApi.inspect(leader.nodeId),
              (node) => node.ManagerStatus?.Reachability === "unreachable",
              { within: "60 seconds", every: "250 millis", what: "the old leader unreachable" }
            )
            expect(downLeader.ManagerStatus?.Leader ?? false).toBe(false)
          })
        )
      }))
  })
})
