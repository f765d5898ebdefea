/**
 * Issue #13, the swarm services on a one-node swarm of this engine, each method proved by its
 * effect on the daemon: labels kept across updates and removed by an empty map, replicas after
 * scale, `ForceUpdate` incremented, rollback back to the previous spec, a secret readable in the
 * task's container (and never returned by inspect), config templating, node label changes,
 * rotated join tokens, unlock key rotation, and a bounded `converged` that says what it saw.
 *
 * Tasks run `busybox:local` named by its image ID: a tag makes swarmkit try to pull it from a
 * registry first (off this host); an image ID is never pulled. Every read goes through the
 * lossless probe (test/support/lossless.ts); every object is labelled and removed in a finalizer
 * before the swarm is left (test/support/swarm.ts).
 */
import { afterAll, describe, expect, layer } from "@effect/vitest"
import { Effect, Layer, Redacted, Stream } from "effect"
import { DockerEngine } from "../../../src/engine/engine.js"
import { ServiceUpdate } from "../../../src/generated/operations/service/ServiceUpdate.js"
import {
  collectOutput,
  Configs,
  Containers,
  Exec,
  Images,
  Nodes,
  Secrets,
  Services,
  type ServiceSpec,
  serviceSpec,
  type ServiceSpecOptions,
  Swarm,
  Tasks
} from "../../../src/index.js"
import { isOutOfSequence } from "../../../src/services/versioned-update.js"
import { currentEngine } from "../../support/engines.js"
import { runId, TEST_LABEL, testLabels } from "../../support/labels.js"
import { losslessEngineLayer } from "../../support/lossless.js"
import { pollUntil, TEST_IMAGE, uniqueName } from "../../support/resources.js"
import { oneNodeSwarmLayer, scopedSwarmObject as scoped, SwarmNode } from "../../support/swarm.js"

const target = currentEngine()
const lossless = losslessEngineLayer(target.host)
const ServicesLive = Layer.mergeAll(
  Swarm.layer,
  Nodes.layer,
  Services.layer,
  Tasks.layer,
  Secrets.layer,
  Configs.layer,
  Containers.layer,
  Exec.layer,
  Images.layer
)
const Live = ServicesLive.pipe(Layer.provideMerge(oneNodeSwarmLayer), Layer.provideMerge(lossless.layer))

/** A name the daemon accepts for a service, secret or config. */
const swarmName = (what: string) => uniqueName(what).replace(/[^a-zA-Z0-9-]/g, "-")
const caseLabels = (caseId: string) => ({ ...testLabels(), "ed.case": caseId })
/** Fast updates and rollbacks: every task at once, failures watched for a short while only. */
const quick = { Parallelism: 0, Monitor: 200_000_000, FailureAction: "pause" as const, Order: "stop-first" as const }

/** busybox:local by its image ID (never pulled), and a spec for it. */
const specFor = (options: Omit<ServiceSpecOptions, "image">) =>
  Effect.map(
    Effect.flatMap(Images, (images) => images.inspect(TEST_IMAGE)),
    (image) =>
      serviceSpec({
        stopGracePeriod: 0,
        updateConfig: quick,
        rollbackConfig: quick,
        ...options,
        image: image.Id!,
        // The label lets the global teardown find a task's container after a crash.
        containerLabels: { ...testLabels(), ...options.containerLabels }
      })
  )

/** A service removed before the swarm is left. */
const scopedService = (spec: ServiceSpec) =>
  Effect.flatMap(Services, (services) =>
    scoped(
      services.create(spec).pipe(Effect.orDie),
      (created) => services.remove(created.Id)
    ))

/** The container of the service's running task (there is one). */
const runningContainer = (serviceId: string) =>
  Effect.gen(function*() {
    const services = yield* Services
    const tasks = yield* services.tasks(serviceId, { filters: { "desired-state": ["running"] } })
    expect(tasks).toHaveLength(1)
    return tasks[0]!.Status!.ContainerStatus!.ContainerID!
  })

describe(`swarm services on engine ${target.id} (${target.host})`, () => {
  afterAll(() => expect(lossless.unexplained()).toEqual([]))

  layer(Live, { excludeTestServices: true, timeout: "240 seconds" })("one-node swarm", (it) => {
    it.effect("Swarm: update merges onto the current spec; rotated join tokens differ; unlock key rotation", () =>
      Effect.gen(function*() {
        const swarm = yield* Swarm
        const before = yield* swarm.inspect()
        expect(before.Spec?.Labels).toEqual(testLabels())

        // A patch changes what it names and keeps the rest (labels, raft, CA…).
        yield* swarm.update({ Orchestration: { TaskHistoryRetentionLimit: 7 } })
        const patched = yield* swarm.inspect()
        expect(patched.Spec?.Orchestration?.TaskHistoryRetentionLimit).toBe(7)
        expect(patched.Spec?.Labels).toEqual(testLabels())
        expect(patched.Spec?.Raft).toEqual(before.Spec?.Raft)
        expect(patched.Version!.Index).toBeGreaterThan(before.Version!.Index!)
        // Labels are replaced whole.
        yield* swarm.update({ Labels: { ...testLabels(), "ed.extra": "1" } })
        expect((yield* swarm.inspect()).Spec?.Labels).toEqual({ ...testLabels(), "ed.extra": "1" })
        yield* swarm.update({ Labels: testLabels(), Orchestration: { TaskHistoryRetentionLimit: 5 } })

        const tokens = yield* swarm.joinTokens()
        expect(String(tokens.worker)).not.toContain("SWMTKN")
        expect(Redacted.value(tokens.worker)).toMatch(/^SWMTKN-1-/)
        yield* swarm.update(undefined, { rotateWorkerToken: true })
        const rotated = yield* swarm.joinTokens()
        expect(Redacted.value(rotated.worker)).toMatch(/^SWMTKN-1-/)
        expect(Redacted.value(rotated.worker)).not.toBe(Redacted.value(tokens.worker))
        expect(Redacted.value(rotated.manager)).toBe(Redacted.value(tokens.manager))
        yield* swarm.update(undefined, { rotateManagerToken: true })
        const rotatedAgain = yield* swarm.joinTokens()
        expect(Redacted.value(rotatedAgain.manager)).not.toBe(Redacted.value(tokens.manager))
        expect(Redacted.value(rotatedAgain.worker)).toBe(Redacted.value(rotated.worker))

        // Autolock: a key appears, rotates, and goes away again.
        expect(yield* swarm.unlockKey()).toBeUndefined()
        yield* swarm.update({ EncryptionConfig: { AutoLockManagers: true } })
        const key = yield* swarm.unlockKey()
        expect(key).toBeDefined()
        expect(String(key)).not.toContain("SWMKEY")
        expect(Redacted.value(key!)).toMatch(/^SWMKEY-1-/)
        yield* swarm.update(undefined, { rotateManagerUnlockKey: true })
        const newKey = yield* swarm.unlockKey()
        expect(Redacted.value(newKey!)).toMatch(/^SWMKEY-1-/)
        expect(Redacted.value(newKey!)).not.toBe(Redacted.value(key!))
        // This manager is not locked (that takes a daemon restart): the daemon says so.
        const notLocked = yield* swarm.unlock(newKey!).pipe(Effect.flip)
        expect((notLocked as { daemonMessage: string }).daemonMessage).toMatch(/not locked/)
        yield* swarm.update({ EncryptionConfig: { AutoLockManagers: false } })
        expect(yield* swarm.unlockKey()).toBeUndefined()
        expect((yield* swarm.inspect()).Spec?.EncryptionConfig?.AutoLockManagers).toBe(false)
      }))

    it.effect("Nodes: labels added, removed and replaced; availability; the last manager cannot be demoted", () =>
      Effect.gen(function*() {
        const nodes = yield* Nodes
        const { nodeId } = yield* SwarmNode
        expect((yield* nodes.list({ filters: { role: ["manager"] } })).map((n) => n.ID)).toEqual([nodeId])
        const labelsOf = Effect.map(nodes.inspect(nodeId), (n) => n.Spec?.Labels)

        yield* nodes.addLabels(nodeId, { "ed.a": "1", "ed.b": "2" })
        expect(yield* labelsOf).toEqual({ "ed.a": "1", "ed.b": "2" })
        yield* nodes.addLabels(nodeId, { "ed.b": "3" })
        expect(yield* labelsOf).toEqual({ "ed.a": "1", "ed.b": "3" })
        yield* nodes.removeLabels(nodeId, ["ed.a"])
        expect(yield* labelsOf).toEqual({ "ed.b": "3" })
        // A patch without labels keeps them; an empty map removes them.
        yield* nodes.update(nodeId, { Availability: "pause" })
        const paused = yield* nodes.inspect(nodeId)
        expect(paused.Spec?.Availability).toBe("pause")
        expect(paused.Spec?.Labels).toEqual({ "ed.b": "3" })
        expect(paused.Spec?.Role).toBe("manager")
        yield* nodes.update(nodeId, { Labels: {} })
        expect(yield* labelsOf).toEqual({})
        expect((yield* nodes.list({ filters: { "node.label": ["ed.b"] } })).map((n) => n.ID)).toEqual([])

        yield* nodes.drain(nodeId)
        expect((yield* nodes.inspect(nodeId)).Spec?.Availability).toBe("drain")
        yield* nodes.activate(nodeId)
        expect((yield* nodes.inspect(nodeId)).Spec?.Availability).toBe("active")
        yield* nodes.promote(nodeId)
        expect((yield* nodes.inspect(nodeId)).Spec?.Role).toBe("manager")
        const demote = yield* nodes.demote(nodeId).pipe(Effect.flip)
        expect((demote as { daemonMessage: string }).daemonMessage).toMatch(/last manager/)
        expect((yield* nodes.inspect(nodeId)).Spec?.Role).toBe("manager")
        expect((yield* nodes.inspect("ed-no-such-node").pipe(Effect.flip))._tag).toBe("NotFound")
        // The daemon will not remove the node it runs on (a manager), force or not.
        const removal = yield* Effect.all(
          [nodes.remove(nodeId), nodes.remove(nodeId, { force: true })].map(Effect.flip)
        )
        expect(removal.map((e) => e._tag)).toEqual(["BadRequest", "BadRequest"])
        expect((yield* nodes.list()).map((n) => n.ID)).toEqual([nodeId])
      }))

    it.effect("Secrets and Configs: base64 done here, data never returned for a secret, labels updated", () =>
      Effect.gen(function*() {
        const secrets = yield* Secrets
        const configs = yield* Configs
        const caseId = uniqueName("data")
        const labels = caseLabels(caseId)
        const bytes = new Uint8Array([0, 1, 2, 250, 255])
        const secret = yield* scoped(
          secrets.create(swarmName("s"), "s3cret ünïcode", { labels }),
          (s) => secrets.remove(s.Id)
        )
        const binary = yield* scoped(secrets.create(swarmName("b"), bytes, { labels }), (s) => secrets.remove(s.Id))
        const config = yield* scoped(
          configs.create(swarmName("c"), bytes.subarray(1), { labels }),
          (c) => configs.remove(c.Id)
        )

        const inspected = yield* secrets.inspect(secret.Id)
        expect(inspected.Spec?.Labels).toEqual(labels)
        expect(inspected.Spec?.Data ?? undefined).toBeUndefined()
        const listed = yield* secrets.list({ filters: { label: [`ed.case=${caseId}`] } })
        expect(listed.map((s) => s.ID).sort()).toEqual([secret.Id, binary.Id].sort())
        expect(listed.every((s) => (s.Spec?.Data ?? undefined) === undefined)).toBe(true)
        // A config's data comes back: exactly the bytes given.
        const inspectedConfig = yield* configs.inspect(config.Id)
        expect([...Buffer.from(inspectedConfig.Spec!.Data!, "base64")]).toEqual([1, 2, 250, 255])

        const version = inspected.Version!.Index!
        yield* secrets.update(secret.Id, { labels: { ...labels, "ed.more": "1" } })
        const updated = yield* secrets.inspect(secret.Id)
        expect(updated.Spec?.Labels).toEqual({ ...labels, "ed.more": "1" })
        expect(updated.Version!.Index).toBeGreaterThan(version)
        yield* configs.update(config.Id, { labels: { [TEST_LABEL]: runId() } })
        const updatedConfig = yield* configs.inspect(config.Id)
        expect(updatedConfig.Spec?.Labels).toEqual({ [TEST_LABEL]: runId() })
        expect(updatedConfig.Spec?.Data).toBe(inspectedConfig.Spec?.Data)

        yield* secrets.remove(binary.Id)
        expect((yield* secrets.inspect(binary.Id).pipe(Effect.flip))._tag).toBe("NotFound")
      }))

    it.effect(
      "Services: create with a secret and a templated config, converged, logs, update keeps labels, scale, force update, rollback, empty labels",
      () =>
        Effect.gen(function*() {
          const services = yield* Services
          const tasksService = yield* Tasks
          const exec = yield* Exec
          const containers = yield* Containers
          const caseId = uniqueName("svc")
          const name = swarmName("svc")
          const labels = caseLabels(caseId)
          const secretName = swarmName("sec")
          const secrets = yield* Secrets
          const configs = yield* Configs
          const secret = yield* scoped(
            secrets.create(secretName, "the-secret-value", { labels }),
            (s) => secrets.remove(s.Id)
          )
          const configName = swarmName("cfg")
          const config = yield* scoped(
            configs.create(configName, "service={{.Service.Name}} env={{env \"ED_A\"}}", {
              labels,
              templating: { Name: "golang" }
            }),
            (c) => configs.remove(c.Id)
          )
          const spec = yield* specFor({
            name,
            labels,
            containerLabels: { "ed.container": "1" },
            command: ["sh", "-c", "echo hello-$ED_A; exec sleep 300"],
            env: { ED_A: "1" },
            replicas: 1,
            secrets: [{ id: secret.Id, name: secretName }],
            configs: [{ id: config.Id, name: configName, target: "/ed-config" }]
          })
          const created = yield* scopedService(spec)
          const id = created.Id
          const first = yield* services.converged(id, { timeout: "60 seconds" })
          expect(first).toMatchObject({ serviceId: id, desired: 1, running: 1, converged: true })

          // The secret as a file in the task's container, read on this engine; never in inspect.
          const container = yield* runningContainer(id)
          const read = yield* exec.run(container, ["cat", `/run/secrets/${secretName}`, "/ed-config"])
          expect(read).toMatchObject({ exitCode: 0, stdout: `the-secret-valueservice=${name} env=1` })
          const service = yield* services.inspect(id)
          expect(JSON.stringify(service)).not.toContain("the-secret-value")
          expect(JSON.stringify(yield* secrets.inspect(secret.Id))).not.toContain(
            Buffer.from("the-secret-value").toString("base64")
          )
          expect(service.Spec?.Labels).toEqual(labels)
          const withDefaults = yield* services.inspect(id, { insertDefaults: true })
          expect(withDefaults.Spec?.TaskTemplate?.ContainerSpec?.Isolation).toBe("default")

          // Logs, demultiplexed (no TTY), of the service and of its task.
          const logs = yield* pollUntil(
            collectOutput(services.logs(id)),
            (output) => output.stdout.includes("hello-1"),
            { within: "30 seconds", every: "300 millis", what: "the service's log line" }
          )
          expect(logs.stdout).toBe("hello-1\n")
          const [task] = yield* tasksService.list({ filters: { service: [id], "desired-state": ["running"] } })
          expect((yield* tasksService.inspect(task!.ID!)).ServiceID).toBe(id)
          expect((yield* collectOutput(tasksService.logs(task!.ID!))).stdout).toBe("hello-1\n")
          const followed = yield* services.logs(id, { follow: true, timestamps: true }).pipe(
            Stream.take(1),
            collectOutput
          )
          expect(followed.stdout).toMatch(/^\d{4}-\d\d-\d\dT\S+ hello-1\n$/)

          // The version read just before: a stale one is refused "out of sequence" by the daemon.
          const stale = yield* Effect.flatMap(
            DockerEngine,
            (engine) => engine.json(ServiceUpdate, { id, version: 1, body: service.Spec! })
          ).pipe(Effect.flip)
          expect(isOutOfSequence(stale)).toBe(true)

          // An update names what changes; service and container labels are kept.
          yield* services.update(id, { TaskTemplate: { ContainerSpec: { Env: ["ED_A=2"] } } })
          yield* services.converged(id, { timeout: "60 seconds" })
          const updated = yield* services.inspect(id)
          expect(updated.Spec?.Labels).toEqual(labels)
          expect(updated.Spec?.TaskTemplate?.ContainerSpec?.Labels).toEqual({ ...testLabels(), "ed.container": "1" })
          expect(updated.Spec?.TaskTemplate?.ContainerSpec?.Env).toEqual(["ED_A=2"])
          expect(updated.Spec?.TaskTemplate?.ContainerSpec?.Command).toEqual(spec.TaskTemplate?.ContainerSpec?.Command)
          const newContainer = yield* runningContainer(id)
          expect(newContainer).not.toBe(container)
          const inspectedContainer = yield* containers.inspect(newContainer)
          expect(inspectedContainer.Config?.Labels).toMatchObject({ "ed.container": "1", [TEST_LABEL]: runId() })
          expect(inspectedContainer.Config?.Env).toContain("ED_A=2")
          expect((yield* exec.run(newContainer, ["cat", "/ed-config"])).stdout).toBe(`service=${name} env=2`)

          // Scale.
          yield* services.scale(id, 3)
          const scaled = yield* services.converged(id, { timeout: "60 seconds" })
          expect(scaled).toMatchObject({ desired: 3, running: 3 })
          expect((yield* services.inspect(id)).Spec?.Mode).toEqual({ Replicated: { Replicas: 3 } })
          const status = yield* services.list({ filters: { id: [id] }, status: true })
          expect(status[0]?.ServiceStatus).toMatchObject({ RunningTasks: 3, DesiredTasks: 3 })
          yield* services.scale(id, 1)
          expect(yield* services.converged(id, { timeout: "60 seconds" })).toMatchObject({ desired: 1, running: 1 })

          // Force update: the counter goes up by one and the task is replaced.
          const beforeForce = yield* services.inspect(id)
          const taskBefore = (yield* services.tasks(id, { filters: { "desired-state": ["running"] } }))[0]!.ID
          yield* services.forceUpdate(id)
          yield* services.converged(id, { timeout: "60 seconds" })
          const forced = yield* services.inspect(id)
          expect(forced.Spec?.TaskTemplate?.ForceUpdate).toBe((beforeForce.Spec?.TaskTemplate?.ForceUpdate ?? 0) + 1)
          const taskAfter = (yield* services.tasks(id, { filters: { "desired-state": ["running"] } }))[0]!.ID
          expect(taskAfter).not.toBe(taskBefore)

          // Rollback: back to the spec before the force update.
          yield* services.rollback(id)
          yield* services.converged(id, { timeout: "60 seconds" })
          const rolledBack = yield* services.inspect(id)
          expect(rolledBack.Spec).toEqual(beforeForce.Spec)
          expect(rolledBack.UpdateStatus?.State).toBe("rollback_completed")

          // An empty map removes every label, service and container ones.
          yield* services.update(id, { Labels: {}, TaskTemplate: { ContainerSpec: { Labels: {} } } })
          yield* services.converged(id, { timeout: "60 seconds" })
          const unlabelled = yield* services.inspect(id)
          expect(unlabelled.Spec?.Labels).toEqual({})
          // The daemon leaves an empty container label map out of its answer.
          expect(unlabelled.Spec?.TaskTemplate?.ContainerSpec?.Labels ?? {}).toEqual({})
          expect(unlabelled.Spec?.TaskTemplate?.ContainerSpec?.Env).toEqual(["ED_A=2"])
          const lastContainer = yield* containers.inspect(yield* runningContainer(id))
          expect(lastContainer.Config?.Labels?.["ed.container"]).toBeUndefined()
        }),
      180_000
    )

    it.effect(
      "Services: scale refuses a global service; TTY logs are raw; converged fails with what it saw",
      () =>
        Effect.gen(function*() {
          const services = yield* Services
          const caseId = uniqueName("modes")
          const global = yield* scopedService(
            yield* specFor({
              name: swarmName("glob"),
              labels: caseLabels(caseId),
              command: ["sleep", "300"],
              global: true
            })
          )
          expect(yield* services.converged(global.Id, { timeout: "60 seconds" })).toMatchObject({
            desired: 1,
            running: 1
          })
          const refused = yield* services.scale(global.Id, 3).pipe(Effect.flip)
          expect(refused).toMatchObject({ _tag: "ServiceModeError", mode: "global", serviceId: global.Id })
          expect((yield* services.inspect(global.Id)).Spec?.Mode).toEqual({ Global: {} })

          // A TTY service: its logs are one raw stream (stderr merged by the terminal, \r\n).
          const tty = yield* scopedService(
            yield* specFor({
              name: swarmName("tty"),
              labels: caseLabels(caseId),
              tty: true,
              command: ["sh", "-c", "echo out; echo err >&2; exec sleep 300"]
            })
          )
          yield* services.converged(tty.Id, { timeout: "60 seconds" })
          const ttyLogs = yield* pollUntil(
            collectOutput(services.logs(tty.Id)),
            (output) => output.stdout.includes("err"),
            { within: "30 seconds", every: "300 millis", what: "the TTY service's output" }
          )
          expect(ttyLogs).toEqual({ stdout: "out\r\nerr\r\n", stderr: "" })

          // A constraint no node meets: the task stays pending, and converged says so.
          const stuck = yield* scopedService(
            yield* specFor({
              name: swarmName("stuck"),
              labels: caseLabels(caseId),
              command: ["sleep", "300"],
              constraints: ["node.labels.ed-nowhere==1"]
            })
          )
          const failure = yield* services.converged(stuck.Id, { timeout: "3 seconds" }).pipe(Effect.flip)
          expect(failure._tag).toBe("ServiceConvergenceError")
          if (failure._tag !== "ServiceConvergenceError") return
          expect(failure.reason).toBe("Timeout")
          expect(failure.seen).toMatchObject({ desired: 1, running: 0, converged: false })
          expect(failure.seen?.tasks.map((t) => t.state)).toEqual(["pending"])
          expect(failure.message).toMatch(/did not converge within 3s: 0\/1 running/)
          expect(failure.message).toContain("pending")
        }),
      120_000
    )
  })
})
