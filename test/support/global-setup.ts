/**
 * Once per engine project: fail fast (never skip) when the engine is not reachable, and after the
 * run remove anything left behind with the test label, even by a crashed earlier run.
 */
import type { TestProject } from "vitest/node"
import { type EngineId, engineTarget, HOW_TO_START } from "./engines.js"
import { runId, TEST_LABEL } from "./labels.js"
import { rawRequest } from "./raw-daemon.js"

/** Resources of another run are only removed once that run is surely over (it may still be running). */
const STALE_AFTER_SECONDS = 30 * 60

type Labelled = { readonly Labels?: Record<string, string> | null }

/**
 * Removes resources labelled by the test suite: those of `run` (this run, at its end), or those of
 * other runs created more than STALE_AFTER_SECONDS ago (a crashed run's leftovers, at the start).
 */
const removeLabelled = async (host: string, which: { readonly run: string; readonly mine: boolean }) => {
  const now = Date.now() / 1000
  const selected = (resource: Labelled, createdSeconds: number) => {
    const owner = resource.Labels?.[TEST_LABEL]
    return which.mine ? owner === which.run : owner !== which.run && now - createdSeconds > STALE_AFTER_SECONDS
  }
  const seconds = (rfc3339: string | undefined) => (rfc3339 ? Date.parse(rfc3339) / 1000 : 0)
  const filters = encodeURIComponent(JSON.stringify({ label: [TEST_LABEL] }))
  const containers = await rawRequest(host, "GET", `/containers/json?all=1&filters=${filters}`)
  for (const c of JSON.parse(containers.body) as Array<Labelled & { Id: string; Created: number }>) {
    if (selected(c, c.Created)) await rawRequest(host, "DELETE", `/containers/${c.Id}?force=1&v=1`)
  }
  const networks = await rawRequest(host, "GET", `/networks?filters=${filters}`)
  for (const n of JSON.parse(networks.body) as Array<Labelled & { Id: string; Created?: string }>) {
    if (selected(n, seconds(n.Created))) await rawRequest(host, "DELETE", `/networks/${n.Id}`)
  }
  const volumes = await rawRequest(host, "GET", `/volumes?filters=${filters}`)
  type Volume = Labelled & { Name: string; CreatedAt?: string }
  for (const v of (JSON.parse(volumes.body) as { Volumes: Array<Volume> | null }).Volumes ?? []) {
    if (selected(v, seconds(v.CreatedAt))) {
      await rawRequest(host, "DELETE", `/volumes/${encodeURIComponent(v.Name)}?force=1`)
    }
  }
  const images = await rawRequest(host, "GET", `/images/json?filters=${filters}`)
  for (const i of JSON.parse(images.body) as Array<Labelled & { Id: string; Created: number }>) {
    if (selected(i, i.Created)) await rawRequest(host, "DELETE", `/images/${i.Id}?force=1`)
  }
}

export default async function setup(project: TestProject) {
  const id = project.config.env?.EFFECT_DOCKER_TEST_ENGINE as EngineId
  const target = engineTarget(id)
  if (target === undefined) {
    throw new Error(
      `effect-docker tests need real Docker engines, and engine "${id}" is not configured. ${HOW_TO_START}`
    )
  }
  try {
    const ping = await rawRequest(target.host, "GET", "/_ping", 5_000)
    if (ping.status !== 200) throw new Error(`/_ping answered HTTP ${ping.status}`)
  } catch (error) {
    throw new Error(
      `effect-docker tests need real Docker engines, and engine "${id}" at ${target.host} is not reachable ` +
        `(${error instanceof Error ? error.message : String(error)}). ${HOW_TO_START}`
    )
  }
  // Several runs may share the engines (two developers, or a run while another is still going):
  // each removes its own resources at its end, and only stale ones of other runs at its start.
  const run = runId()
  await removeLabelled(target.host, { run, mine: false })
  return async () => {
    await removeLabelled(target.host, { run, mine: true })
  }
}
