/**
 * A three-node swarm on this machine, for the files under test/integration/cluster/ (the vitest
 * project `cluster`, which runs its files one after another, never beside another project's files).
 *
 * The daemons are the test bed's cluster-1..3 (scripts/engines/cluster.sh: docker-latest's
 * generation, each its own data root and socket); engines.env says where they are and which
 * 127.0.0.1 ports their swarm uses (kept apart from the one-node swarms of test/support/swarm.ts).
 * `threeNodeCluster` makes the swarm: node 1 inits and is the manager, nodes 2 and 3 join as workers
 * over 127.0.0.1. A crashed run's leftovers are cleaned first (a node whose daemon a test killed is
 * started again, a node still in a swarm leaves it), and every node leaves the swarm (force) when the
 * scope closes, whatever the tests did.
 */
import { Context, Duration, Effect, Layer, type Redacted, type Scope } from "effect"
import { execFile } from "node:child_process"
import { readFileSync } from "node:fs"
import { fileURLToPath } from "node:url"
import type { DockerError } from "../../src/core/errors.js"
import { DockerEngine, type DockerEngineShape } from "../../src/engine/engine.js"
import { NodeList } from "../../src/generated/operations/node/NodeList.js"
import { SystemInfo } from "../../src/generated/operations/system/SystemInfo.js"
import { SystemPing } from "../../src/generated/operations/system/SystemPing.js"
import type { ServiceSpec } from "../../src/generated/schemas/ServiceSpec.js"
import { Nodes, Services as ServicesApi, Swarm, System, Tasks } from "../../src/index.js"
import { serviceSpec, type ServiceSpecOptions } from "../../src/services/service-spec.js"
import { engineEnv } from "./engines.js"
import { testLabels } from "./labels.js"
import { type LosslessProbe, losslessProbe } from "./lossless.js"
import { pollUntil, TEST_IMAGE, uniqueName } from "./resources.js"

/** A node of the test bed's cluster, as engines.env describes it. */
export interface ClusterNodeTarget {
  /** 1, 2 or 3: node 1 inits the swarm. */
  readonly index: number
  /** `unix:///…/cluster-<n>/docker.sock` */
  readonly host: string
  /** Its swarm listen and advertise address, `127.0.0.1:<port>`. */
  readonly swarmAddr: string
  /** Its dockerd's pidfile (the tests that kill a daemon read it). */
  readonly pidfile: string
}

export const CLUSTER_SIZE = 3

const START_CLUSTER = fileURLToPath(new URL("../../scripts/engines.sh", import.meta.url))

export const HOW_TO_START_CLUSTER = "Start the test bed's swarm nodes with `sudo bash scripts/engines.sh start` " +
  "(or only them: `sudo bash scripts/engines.sh cluster start`); `bash scripts/test.sh` does it for you."

/** The cluster's nodes from engines.env; throws, saying how to start them, when they are not there. */
export const clusterTargets = (env = engineEnv()): ReadonlyArray<ClusterNodeTarget> =>
  Array.from({ length: CLUSTER_SIZE }, (_, i) => {
    const key = `EFFECT_DOCKER_CLUSTER_NODE_${i + 1}`
    const host = env[key], swarmAddr = env[`${key}_SWARM_ADDR`], pidfile = env[`${key}_PIDFILE`]
    if (host === undefined || swarmAddr === undefined || pidfile === undefined) {
      throw new Error(`The three-node swarm tests need ${key} (and _SWARM_ADDR, _PIDFILE). ${HOW_TO_START_CLUSTER}`)
    }
    return { index: i + 1, host, swarmAddr, pidfile }
  })

/** The cluster's VXLAN data-path port (engines.env; one for the whole swarm). */
export const clusterDataPathPort = (env = engineEnv()): number => {
  const port = Number(env.EFFECT_DOCKER_CLUSTER_DATA_PATH_PORT)
  if (!Number.isInteger(port)) {
    throw new Error(`EFFECT_DOCKER_CLUSTER_DATA_PATH_PORT is not set. ${HOW_TO_START_CLUSTER}`)
  }
  return port
}

/** The subnets of the cluster's overlay networks (ingress included): apart from the engines' pools. */
export const CLUSTER_ADDR_POOL = "10.220.0.0/16"
/** Nodes report themselves every second, so a dead one is seen as down within seconds. */
export const HEARTBEAT = Duration.seconds(1)

/** The services the cluster tests use, over one node's engine. */
const nodeServices = Layer.mergeAll(Swarm.layer, Nodes.layer, ServicesApi.layer, Tasks.layer, System.layer)
type Services = DockerEngine | Layer.Success<typeof nodeServices>

/**
 * Every node's engine reads through a lossless probe (test/support/lossless.ts): a file's `afterAll`
 * asserts `clusterDifferences()` is empty — three-node answers (managers, down nodes, task
 * history) decoded without losing a key.
 */
const probes: Array<LosslessProbe> = []
export const clusterDifferences = (): ReadonlyArray<string> => probes.flatMap((probe) => probe.unexplained())
/** The reads the fixture makes in every file (so the probe's check surely ran, whatever tests were picked). */
export const CLUSTER_READS = ["SwarmInspect", "SystemInfo", "NodeList"]
export const clusterComparedOperations = (): ReadonlySet<string> =>
  new Set(probes.flatMap((probe) => [...probe.compared()]))

const nodeLayer = (host: string) =>
  Layer.provideMerge(
    nodeServices,
    Layer.effect(DockerEngine)(Effect.map(DockerEngine, (engine) => {
      const probe = losslessProbe(engine)
      probes.push(probe)
      return probe.engine
    })).pipe(Layer.provide(DockerEngine.layer({ host })))
  )

/** A node of the running cluster: where it is, its swarm node ID, and every service over its daemon. */
export interface ClusterNode extends ClusterNodeTarget {
  readonly nodeId: string
  readonly engine: DockerEngineShape
  /** The services over this node's (probed) engine, built once: `onNode(node, effect)` runs `effect` against it. */
  readonly context: Context.Context<Services>
}

/** A node's target with its services, before the swarm gave it an ID. */
type NodeServices = ClusterNodeTarget & Pick<ClusterNode, "engine" | "context">

export interface Cluster {
  /** Node 1 (manager, leader at first), node 2 and node 3 (workers at first). */
  readonly nodes: readonly [ClusterNode, ClusterNode, ClusterNode]
  readonly swarmId: string
  readonly managerToken: Redacted.Redacted<string>
}

export class ThreeNodeCluster extends Context.Service<ThreeNodeCluster, Cluster>()("test/ThreeNodeCluster") {}

/** Runs `effect` with the services of `node`'s daemon. */
export const onNode = <A, E, R>(
  node: Pick<ClusterNode, "context">,
  effect: Effect.Effect<A, E, R>
): Effect.Effect<A, E, Exclude<R, Services>> => Effect.provideContext(effect, node.context)

/** A service created through `node` (a manager) with `Services.create`, removed when the scope closes. */
export const scopedService = (node: ClusterNode, spec: ServiceSpec) =>
  onNode(
    node,
    Effect.gen(function*() {
      const services = yield* ServicesApi
      const created = yield* Effect.acquireRelease(services.create(spec), (service) =>
        services.remove(service.Id).pipe(
          Effect.timeout("30 seconds"),
          Effect.catch((error) => Effect.logWarning(`could not remove service ${service.Id}: ${String(error)}`))
        ))
      return created.Id
    })
  )

/**
 * A labelled `sleep` service of `replicas` busybox tasks (small: three daemons share two cores);
 * stopped tasks go after 1 s (a `sleep` ignores SIGTERM as PID 1).
 */
export const sleeperSpec = (name: string, replicas: number, more: Partial<ServiceSpecOptions> = {}) =>
  serviceSpec({
    name: uniqueName(name),
    image: TEST_IMAGE,
    command: ["sleep", "3600"],
    replicas,
    labels: testLabels(),
    containerLabels: testLabels(),
    stopGracePeriod: "1 second",
    ...more
  })

/** `Services.converged` through `node` (a manager), bounded by `timeout`. */
export const convergedOn = (node: ClusterNode, id: string, timeout: Duration.Input = "60 seconds") =>
  onNode(node, Effect.flatMap(ServicesApi, (services) => services.converged(id, { timeout })))

/** Every task the swarm keeps of service `id` (old ones included), as `node` (a manager) lists them. */
export const taskHistory = (node: ClusterNode, id: string) =>
  onNode(node, Effect.flatMap(ServicesApi, (services) => services.tasks(id)))

/** How many tasks of service `id` run on each of `nodes`, in their order. */
export const runningPerNode = (node: ClusterNode, id: string, nodes: ReadonlyArray<ClusterNode>) =>
  Effect.map(
    onNode(
      node,
      Effect.flatMap(ServicesApi, (services) => services.tasks(id, { filters: { "desired-state": ["running"] } }))
    ),
    (tasks) => nodes.map((n) => tasks.filter((t) => t.NodeID === n.nodeId && t.Status?.State === "running").length)
  )

const ping = (engine: DockerEngineShape) =>
  engine.raw(SystemPing).pipe(
    Effect.map((answer) => answer.status === 200),
    Effect.timeout("3 seconds"),
    Effect.catch(() => Effect.succeed(false))
  )

/** `scripts/engines.sh cluster start`: starts the nodes whose daemon is not running (idempotent, bounded). */
export const startClusterDaemons: Effect.Effect<void, Error> = Effect.callback<void, Error>((resume, signal) => {
  execFile(
    "bash",
    [START_CLUSTER, "cluster", "start"],
    { signal, timeout: 120_000 },
    (error, _stdout, stderr) =>
      resume(
        error === null
          ? Effect.void
          : Effect.fail(new Error(`engines.sh cluster start failed: ${error.message}\n${stderr}`))
      )
  )
})

/** SIGKILLs `node`'s dockerd (its containers keep running under containerd) and waits until it is gone. */
export const killDaemon = (node: ClusterNodeTarget & { readonly engine: DockerEngineShape }) =>
  Effect.gen(function*() {
    const pid = Number(readFileSync(node.pidfile, "utf8").trim())
    if (!Number.isInteger(pid) || pid <= 1) return yield* Effect.fail(new Error(`bad pidfile ${node.pidfile}`))
    process.kill(pid, "SIGKILL")
    yield* pollUntil(ping(node.engine), (up) => !up, { within: "10 seconds", what: `node ${node.index} daemon gone` })
  })

/** This daemon's view of its swarm membership (`inactive`, `pending`, `active`, `error`, `locked`). */
export const localNodeState = (engine: DockerEngineShape) =>
  Effect.map(engine.json(SystemInfo), (info) => info.Swarm?.LocalNodeState ?? "inactive")

const leave = (node: NodeServices) =>
  onNode(node, Effect.flatMap(Swarm, (swarm) => swarm.leave({ force: true }))).pipe(
    Effect.timeout("60 seconds"),
    // Not (or no longer) part of a swarm: nothing to leave.
    Effect.catchTag("NotInSwarm", () => Effect.void)
  )

/** Every node out of any swarm: a crashed run's cluster (or a node a test killed) is cleaned up first. */
const cleanUp = (nodes: ReadonlyArray<NodeServices>) =>
  Effect.gen(function*() {
    const up = yield* Effect.forEach(nodes, (node) => ping(node.engine))
    if (up.some((alive) => !alive)) yield* startClusterDaemons
    // Workers first: a manager that leaves first would leave the others with a dead swarm to leave.
    for (const node of [...nodes].reverse()) {
      if ((yield* localNodeState(node.engine)) !== "inactive") yield* leave(node)
    }
  })

const releaseCluster = (nodes: ReadonlyArray<NodeServices>) =>
  cleanUp(nodes).pipe(
    Effect.timeout("3 minutes"),
    Effect.catch((error) => Effect.logWarning(`could not take the cluster apart: ${String(error)}`))
  )

/** Makes the three-node swarm (node 1 manager, 2 and 3 workers, all ready); taken apart with the scope. */
export const threeNodeCluster: Effect.Effect<Cluster, DockerError | Error, Scope.Scope> = Effect.gen(function*() {
  const targets = clusterTargets()
  const nodes = yield* Effect.forEach(
    targets,
    (target) =>
      Effect.map(Layer.build(nodeLayer(target.host)), (context) => ({
        ...target,
        context,
        engine: Context.get(context, DockerEngine)
      }))
  )
  yield* cleanUp(nodes)
  const [first, ...others] = nodes
  yield* Effect.acquireRelease(
    onNode(
      first!,
      Effect.flatMap(Swarm, (swarm) =>
        swarm.init({
          listenAddr: first!.swarmAddr,
          advertiseAddr: first!.swarmAddr,
          dataPathPort: clusterDataPathPort(),
          defaultAddrPool: [CLUSTER_ADDR_POOL],
          subnetSize: 24,
          spec: {
            Labels: testLabels(),
            Dispatcher: { HeartbeatPeriod: Duration.toMillis(HEARTBEAT) * 1_000_000 },
            // Enough history to see a rolling update replace every task.
            Orchestration: { TaskHistoryRetentionLimit: 20 }
          }
        }))
    ).pipe(Effect.timeout("60 seconds")),
    () => releaseCluster(nodes)
  )
  const swarm = yield* onNode(first!, Effect.flatMap(Swarm, (api) => api.inspect()))
  const tokens = yield* onNode(first!, Effect.flatMap(Swarm, (api) => api.joinTokens()))
  for (const node of others) {
    yield* onNode(
      node,
      Effect.flatMap(Swarm, (api) =>
        api.join({
          listenAddr: node.swarmAddr,
          advertiseAddr: node.swarmAddr,
          remoteAddrs: [first!.swarmAddr],
          joinToken: tokens.worker
        }))
    ).pipe(Effect.timeout("60 seconds"))
  }
  const ids = yield* Effect.forEach(
    nodes,
    (node) => Effect.map(node.engine.json(SystemInfo), (info) => info.Swarm?.NodeID ?? "")
  )
  yield* pollUntil(
    first!.engine.json(NodeList),
    (list) => ids.every((id) => list.some((n) => n.ID === id && n.Status?.State === "ready")),
    { within: "60 seconds", every: "250 millis", what: "three ready nodes" }
  )
  const withIds = nodes.map((node, i) => ({ ...node, nodeId: ids[i]! }))
  return {
    nodes: [withIds[0]!, withIds[1]!, withIds[2]!] as const,
    swarmId: swarm.ID!,
    managerToken: tokens.manager
  }
})

/** The same for a whole file, as a layer. */
export const threeNodeClusterLayer: Layer.Layer<ThreeNodeCluster, DockerError | Error> = Layer.effect(
  ThreeNodeCluster
)(threeNodeCluster)
