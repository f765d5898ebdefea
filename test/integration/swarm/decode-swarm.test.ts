/**
 * Issue #3's proof, swarm half: a one-node swarm on this engine, and every swarm read operation
 * (swarm, nodes, services, tasks, secrets, configs, and info in swarm mode) decoded through the
 * real executor with the generated descriptors, with the values the test set up.
 *
 * Both engine projects run at the same time on the same host network, so each engine gets its own
 * swarm ports. The swarm is left (force) in the layer's finalizer, whatever the tests did, and a
 * swarm a crashed run left behind is left before a new one is made.
 */
import { afterAll, describe, expect, layer } from "@effect/vitest"
import { Effect, Layer } from "effect"
import { DockerEngine } from "../../../src/engine/engine.js"
import { ConfigCreate } from "../../../src/generated/operations/config/ConfigCreate.js"
import { ConfigDelete } from "../../../src/generated/operations/config/ConfigDelete.js"
import { ConfigInspect } from "../../../src/generated/operations/config/ConfigInspect.js"
import { ConfigList } from "../../../src/generated/operations/config/ConfigList.js"
import { ContainerInspect } from "../../../src/generated/operations/container/ContainerInspect.js"
import { ImageInspect } from "../../../src/generated/operations/image/ImageInspect.js"
import { NetworkCreate } from "../../../src/generated/operations/network/NetworkCreate.js"
import { NetworkDelete } from "../../../src/generated/operations/network/NetworkDelete.js"
import { NodeInspect } from "../../../src/generated/operations/node/NodeInspect.js"
import { NodeList } from "../../../src/generated/operations/node/NodeList.js"
import { NodeUpdate } from "../../../src/generated/operations/node/NodeUpdate.js"
import { SecretCreate } from "../../../src/generated/operations/secret/SecretCreate.js"
import { SecretDelete } from "../../../src/generated/operations/secret/SecretDelete.js"
import { SecretInspect } from "../../../src/generated/operations/secret/SecretInspect.js"
import { SecretList } from "../../../src/generated/operations/secret/SecretList.js"
import { ServiceCreate } from "../../../src/generated/operations/service/ServiceCreate.js"
import { ServiceDelete } from "../../../src/generated/operations/service/ServiceDelete.js"
import { ServiceInspect } from "../../../src/generated/operations/service/ServiceInspect.js"
import { ServiceList } from "../../../src/generated/operations/service/ServiceList.js"
import { ServiceUpdate } from "../../../src/generated/operations/service/ServiceUpdate.js"
import { SwarmInspect } from "../../../src/generated/operations/swarm/SwarmInspect.js"
import { SwarmUnlockkey } from "../../../src/generated/operations/swarm/SwarmUnlockkey.js"
import { SwarmUpdate } from "../../../src/generated/operations/swarm/SwarmUpdate.js"
import { SystemInfo } from "../../../src/generated/operations/system/SystemInfo.js"
import { SystemVersion } from "../../../src/generated/operations/system/SystemVersion.js"
import { TaskInspect } from "../../../src/generated/operations/task/TaskInspect.js"
import { TaskList } from "../../../src/generated/operations/task/TaskList.js"
import { fastDecoderMisses } from "../../../src/wire/decode.js"
import { currentEngine } from "../../support/engines.js"
import { runId, TEST_LABEL, testLabels } from "../../support/labels.js"
import { type LosslessProbe, losslessProbe } from "../../support/lossless.js"
import { pollUntil, TEST_IMAGE, uniqueName } from "../../support/resources.js"
import {
  LISTEN_ADDR,
  oneNodeSwarmLayer,
  scopedSwarmObject as scoped,
  SwarmNode,
  swarmPorts as ports
} from "../../support/swarm.js"

const target = currentEngine()

/**
 * The engine the tests get: every read goes through a lossless probe (test/support/lossless.ts),
 * and the file fails on any key a decoder dropped or value it changed.
 */
const probes: Array<LosslessProbe> = []
const LosslessEngine = Layer.effect(DockerEngine)(Effect.map(DockerEngine, (engine) => {
  const probe = losslessProbe(engine)
  probes.push(probe)
  return probe.engine
})).pipe(Layer.provide(DockerEngine.layer({ host: target.host })))

const SwarmLive = oneNodeSwarmLayer.pipe(Layer.provideMerge(LosslessEngine))

const base64 = (text: string) => Buffer.from(text, "utf8").toString("base64")
const caseFilter = (caseId: string) => ({ label: [`${TEST_LABEL}=${runId()}`, `ed.case=${caseId}`] })

describe(`decode swarm responses on engine ${target.id} (${target.host})`, () => {
  // Every real answer took the generated fast decoder (src/wire/decode.ts), none fell back to the
  // slower Schema decode.
  afterAll(() => expect(fastDecoderMisses.count).toBe(0))
  afterAll(() => expect(probes.flatMap((p) => p.unexplained())).toEqual([]))

  // `excludeTestServices`: these tests do real I/O with real waits, so they need the live clock
  // (the layer form of `it.live`). The swarm is made once for the file and left after it.
  layer(SwarmLive, { excludeTestServices: true, timeout: "120 seconds" })("one-node swarm", (it) => {
    it.effect("swarm inspect, unlock key and info in swarm mode", () =>
      Effect.gen(function*() {
        const engine = yield* DockerEngine
        const { nodeId } = yield* SwarmNode
        expect(nodeId).toMatch(/^[0-9a-z]{25}$/)

        const swarm = yield* engine.json(SwarmInspect)
        expect(swarm.ID).toMatch(/^[0-9a-z]{25}$/)
        expect(swarm.JoinTokens?.Worker).toMatch(/^SWMTKN-1-/)
        expect(swarm.JoinTokens?.Manager).toMatch(/^SWMTKN-1-/)
        expect(swarm.DataPathPort).toBe(ports.dataPath)
        expect(swarm.DefaultAddrPool).toEqual(["10.0.0.0/8"])
        expect(swarm.SubnetSize).toBe(24)
        expect(swarm.Spec?.Name).toBe("default")
        expect(swarm.Spec?.Labels).toEqual(testLabels())
        expect(swarm.Spec?.Orchestration?.TaskHistoryRetentionLimit).toBe(5)
        expect(swarm.Spec?.Raft?.ElectionTick).toBe(10)
        expect(swarm.Spec?.Dispatcher?.HeartbeatPeriod).toBe(5_000_000_000)
        expect(swarm.Spec?.CAConfig?.NodeCertExpiry).toBe(7_776_000_000_000_000)
        expect(swarm.TLSInfo?.TrustRoot).toContain("BEGIN CERTIFICATE")
        expect(swarm.Version?.Index).toBeGreaterThan(0)
        expect(swarm.CreatedAt).toMatch(/^\d{4}-\d\d-\d\dT/)
        // Autolock is off: the key is empty.
        expect((yield* engine.json(SwarmUnlockkey)).UnlockKey).toBe("")

        // Round trip: an update with the inspected spec unchanged changes nothing on the daemon.
        yield* engine.empty(SwarmUpdate, { version: swarm.Version!.Index!, body: swarm.Spec! })
        const after = yield* engine.json(SwarmInspect)
        expect(after.Version!.Index).toBeGreaterThan(swarm.Version!.Index!)
        expect(after.Spec).toEqual(swarm.Spec)

        const info = yield* engine.json(SystemInfo)
        expect(info.Swarm?.LocalNodeState).toBe("active")
        expect(info.Swarm?.NodeID).toBe(nodeId)
        expect(info.Swarm?.NodeAddr).toBe("127.0.0.1")
        expect(info.Swarm?.ControlAvailable).toBe(true)
        expect(info.Swarm?.Nodes).toBe(1)
        expect(info.Swarm?.Managers).toBe(1)
        expect(info.Swarm?.Cluster?.ID).toBe(swarm.ID)
        expect(info.Swarm?.RemoteManagers).toEqual([{ NodeID: nodeId, Addr: LISTEN_ADDR }])
      }))

    it.effect("nodes: list and inspect the one manager", () =>
      Effect.gen(function*() {
        const engine = yield* DockerEngine
        const { nodeId } = yield* SwarmNode
        const version = yield* engine.json(SystemVersion)

        const nodes = yield* engine.json(NodeList)
        expect(nodes.map((node) => node.ID)).toEqual([nodeId])
        const byRole = yield* engine.json(NodeList, { filters: { role: ["manager"] } })
        expect(byRole.map((node) => node.ID)).toEqual([nodeId])

        const node = yield* engine.json(NodeInspect, { id: nodeId })
        expect(node.ID).toBe(nodeId)
        expect(node.Spec?.Role).toBe("manager")
        expect(node.Spec?.Availability).toBe("active")
        expect(node.Status?.State).toBe("ready")
        expect(node.Status?.Addr).toBe("127.0.0.1")
        expect(node.ManagerStatus).toEqual({ Leader: true, Reachability: "reachable", Addr: LISTEN_ADDR })
        expect(node.Description?.Engine?.EngineVersion).toBe(version.Version)
        expect(node.Description?.Platform).toEqual({ Architecture: "x86_64", OS: "linux" })
        expect(node.Description?.Resources?.NanoCPUs).toBeGreaterThan(0)
        expect(node.Description?.Resources?.MemoryBytes).toBeGreaterThan(0)
        expect(node.Description?.TLSInfo?.TrustRoot).toContain("BEGIN CERTIFICATE")
        expect(node.Version?.Index).toBeGreaterThan(0)

        // Round trip: an update with the inspected spec unchanged changes nothing on the daemon.
        yield* engine.empty(NodeUpdate, { id: nodeId, version: node.Version!.Index!, body: node.Spec! })
        const after = yield* engine.json(NodeInspect, { id: nodeId })
        expect(after.Version!.Index).toBeGreaterThan(node.Version!.Index!)
        expect(after.Spec).toEqual(node.Spec)
      }))

    it.effect(
      "services and tasks: create busybox:local (by ID) `sleep 300`, wait until its task runs, list and inspect",
      () =>
        Effect.gen(function*() {
          const engine = yield* DockerEngine
          const { nodeId } = yield* SwarmNode
          const caseId = uniqueName("svc")
          // busybox:local named by its image ID: a task whose image is a tag makes swarmkit try to pull
          // it first (from registry-1.docker.io: traffic off this host, and a stall where DNS is slow);
          // an image ID is never pulled.
          const image = (yield* engine.json(ImageInspect, { name: TEST_IMAGE })).Id!
          expect(image).toMatch(/^sha256:[0-9a-f]{64}$/)
          const name = caseId.replace(/[^a-zA-Z0-9-]/g, "-")
          const labels = { ...testLabels(), "ed.case": caseId }
          // What the service carries: every part of a spec the suite can set offline, so the
          // lossless probe sees each of them come back (healthcheck, mounts, secrets, configs,
          // placement, resources, update/rollback config, an overlay network).
          const network = yield* scoped(
            engine.json(NetworkCreate, {
              body: { Name: `${name}-net`, Driver: "overlay", Attachable: true, Labels: labels }
            }),
            (n) => engine.empty(NetworkDelete, { id: n.Id })
          )
          const secret = yield* scoped(
            engine.json(SecretCreate, { body: { Name: `${name}-s`, Labels: labels, Data: base64("s3cret") } }),
            (x) => engine.empty(SecretDelete, { id: x.Id })
          )
          const config = yield* scoped(
            engine.json(ConfigCreate, { body: { Name: `${name}-c`, Labels: labels, Data: base64("c0nfig") } }),
            (x) => engine.empty(ConfigDelete, { id: x.Id })
          )
          const spec = {
            Name: name,
            Labels: labels,
            TaskTemplate: {
              ContainerSpec: {
                Image: image,
                Command: ["sleep", "300"],
                // The label lets the global teardown find the task's container after a crash.
                Labels: testLabels(),
                StopGracePeriod: 0,
                Env: ["ED_A=1"],
                Dir: "/",
                User: "0",
                Hostname: "ed-svc",
                Healthcheck: { Test: ["CMD", "true"], Interval: 1_000_000_000, Timeout: 2_000_000_000, Retries: 2 },
                Mounts: [{ Type: "tmpfs" as const, Target: "/scratch", TmpfsOptions: { SizeBytes: 1_048_576 } }],
                Secrets: [{
                  SecretID: secret.Id,
                  SecretName: `${name}-s`,
                  File: { Name: "ed-secret", UID: "0", GID: "0", Mode: 0o400 }
                }],
                Configs: [{
                  ConfigID: config.Id,
                  ConfigName: `${name}-c`,
                  File: { Name: "/ed-config", UID: "0", GID: "0", Mode: 0o444 }
                }]
              },
              Resources: {
                Limits: { NanoCPUs: 500_000_000, MemoryBytes: 64 * 1024 * 1024 },
                Reservations: { MemoryBytes: 4 * 1024 * 1024 }
              },
              RestartPolicy: { Condition: "none" as const },
              Placement: {
                Constraints: ["node.role==manager"],
                Preferences: [{ Spread: { SpreadDescriptor: "node.id" } }],
                MaxReplicas: 1
              },
              Networks: [{ Target: network.Id, Aliases: ["ed-svc-alias"] }]
            },
            Mode: { Replicated: { Replicas: 1 } },
            UpdateConfig: {
              Parallelism: 1,
              FailureAction: "pause" as const,
              Monitor: 1_000_000_000,
              Order: "stop-first" as const
            },
            RollbackConfig: { Parallelism: 1, FailureAction: "pause" as const, Order: "stop-first" as const }
          }
          const created = yield* scoped(
            engine.json(ServiceCreate, { body: spec }),
            (service) => engine.empty(ServiceDelete, { id: service.Id })
          )
          expect(created.Id).toMatch(/^[0-9a-z]{25}$/)
          const serviceId = created.Id

          // Bounded wait until the task reports `running`.
          const tasks = yield* pollUntil(
            engine.json(TaskList, { filters: { service: [serviceId] } }),
            (all) => (all ?? []).some((task) => task.Status?.State === "running"),
            { within: "60 seconds", every: "200 millis", what: "a running task" }
          )
          expect(tasks).toHaveLength(1)
          const task = yield* engine.json(TaskInspect, { id: tasks[0]!.ID! })
          expect(task.ID).toBe(tasks[0]!.ID)
          expect(task.ServiceID).toBe(serviceId)
          expect(task.NodeID).toBe(nodeId)
          expect(task.Slot).toBe(1)
          expect(task.DesiredState).toBe("running")
          expect(task.Status?.State).toBe("running")
          expect(task.Status?.Message).toBe("started")
          expect(task.Status?.Timestamp).toMatch(/^\d{4}-\d\d-\d\dT/)
          expect(task.Spec?.ContainerSpec?.Image).toBe(image)
          expect(task.Spec?.ContainerSpec?.Command).toEqual(["sleep", "300"])
          const containerId = task.Status?.ContainerStatus?.ContainerID
          expect(containerId).toMatch(/^[0-9a-f]{64}$/)
          expect(task.Status?.ContainerStatus?.PID).toBeGreaterThan(0)
          const byDesired = yield* engine.json(TaskList, {
            filters: { service: [serviceId], "desired-state": ["running"] }
          })
          expect(byDesired.map((t) => t.ID)).toEqual([task.ID])

          // The task's container, seen from the container side.
          const container = yield* engine.json(ContainerInspect, { id: containerId! })
          expect(container.State?.Status).toBe("running")
          expect(container.Image).toBe(image)
          expect(container.Config?.Labels?.["com.docker.swarm.service.id"]).toBe(serviceId)
          expect(container.Config?.Labels?.["com.docker.swarm.task.id"]).toBe(task.ID)
          expect(container.Config?.Labels?.[TEST_LABEL]).toBe(runId())

          const service = yield* engine.json(ServiceInspect, { id: serviceId })
          expect(service.ID).toBe(serviceId)
          expect(service.Spec?.Name).toBe(name)
          expect(service.Spec?.Labels).toEqual(labels)
          expect(service.Spec?.Mode?.Replicated?.Replicas).toBe(1)
          expect(service.Spec?.TaskTemplate?.ContainerSpec?.Image).toBe(image)
          expect(service.Spec?.TaskTemplate?.RestartPolicy?.Condition).toBe("none")
          expect(service.Version?.Index).toBeGreaterThan(0)
          expect(service.Endpoint?.Spec).toEqual({}) // no ports published: no endpoint mode either
          const withDefaults = yield* engine.json(ServiceInspect, { id: serviceId, insertDefaults: true })
          expect(withDefaults.Spec?.UpdateConfig?.Order).toBe("stop-first")
          expect(withDefaults.Spec?.TaskTemplate?.ContainerSpec?.Isolation).toBe("default")

          const listed = yield* engine.json(ServiceList, { filters: caseFilter(caseId), status: true })
          expect(listed.map((s) => s.ID)).toEqual([serviceId])
          expect(listed[0]!.ServiceStatus).toEqual({ RunningTasks: 1, DesiredTasks: 1, CompletedTasks: 0 })
          // E25, E26: what the spec set comes back, and the task's attachment is the swarm network.
          expect(service.Spec?.TaskTemplate?.ContainerSpec?.Healthcheck?.Test).toEqual(["CMD", "true"])
          expect(task.Spec?.ContainerSpec?.Healthcheck?.Retries).toBe(2)
          const attachment = (task.NetworksAttachments ?? []).find((a) => a.Network?.ID === network.Id)
          expect(attachment?.Network?.Spec?.Name).toBe(`${name}-net`)
          expect(attachment?.Network?.Spec?.Attachable).toBe(true)
          expect(attachment?.Addresses?.length).toBeGreaterThan(0)

          // Round trip: an update with the inspected spec unchanged changes nothing on the daemon.
          yield* engine.json(ServiceUpdate, {
            id: serviceId,
            version: service.Version!.Index!,
            body: service.Spec!
          })
          const after = yield* engine.json(ServiceInspect, { id: serviceId })
          expect(after.Version!.Index).toBeGreaterThan(service.Version!.Index!)
          expect(after.Spec).toEqual(service.Spec)
          expect(after.PreviousSpec).toEqual(service.Spec) // E27: what a rollback returns to
          const rawAfter = JSON.parse((yield* engine.raw(ServiceInspect, { id: serviceId })).body)
          expect(rawAfter.Spec.TaskTemplate.ContainerSpec.Healthcheck.Test).toEqual(["CMD", "true"])
        }),
      90_000
    )

    it.effect("secrets: create, list and inspect (the data is never returned)", () =>
      Effect.gen(function*() {
        const engine = yield* DockerEngine
        const caseId = uniqueName("secret")
        const labels = { ...testLabels(), "ed.case": caseId }
        const created = yield* scoped(
          engine.json(SecretCreate, { body: { Name: caseId, Labels: labels, Data: base64("s3cret") } }),
          (secret) => engine.empty(SecretDelete, { id: secret.Id })
        )
        expect(created.Id).toMatch(/^[0-9a-z]{25}$/)

        const secret = yield* engine.json(SecretInspect, { id: created.Id })
        expect(secret.ID).toBe(created.Id)
        expect(secret.Spec?.Name).toBe(caseId)
        expect(secret.Spec?.Labels).toEqual(labels)
        expect(secret.Spec?.Data ?? undefined).toBeUndefined()
        expect(secret.Version?.Index).toBeGreaterThan(0)
        expect(secret.CreatedAt).toMatch(/^\d{4}-\d\d-\d\dT/)

        const listed = yield* engine.json(SecretList, { filters: caseFilter(caseId) })
        expect(listed.map((s) => s.ID)).toEqual([created.Id])
        const byName = yield* engine.json(SecretList, { filters: { name: [caseId] } })
        expect(byName.map((s) => s.Spec?.Name)).toEqual([caseId])
      }))

    it.effect("configs: create, list and inspect (the data comes back)", () =>
      Effect.gen(function*() {
        const engine = yield* DockerEngine
        const caseId = uniqueName("config")
        const labels = { ...testLabels(), "ed.case": caseId }
        const created = yield* scoped(
          engine.json(ConfigCreate, { body: { Name: caseId, Labels: labels, Data: base64("key=value\n") } }),
          (config) => engine.empty(ConfigDelete, { id: config.Id })
        )
        expect(created.Id).toMatch(/^[0-9a-z]{25}$/)

        const config = yield* engine.json(ConfigInspect, { id: created.Id })
        expect(config.ID).toBe(created.Id)
        expect(config.Spec?.Name).toBe(caseId)
        expect(config.Spec?.Labels).toEqual(labels)
        expect(Buffer.from(config.Spec?.Data ?? "", "base64").toString("utf8")).toBe("key=value\n")
        expect(config.Version?.Index).toBeGreaterThan(0)

        const listed = yield* engine.json(ConfigList, { filters: caseFilter(caseId) })
        expect(listed.map((c) => c.ID)).toEqual([created.Id])
        expect(listed[0]!.Spec?.Data).toBe(config.Spec?.Data)
      }))
  })
})
