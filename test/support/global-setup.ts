/**
 * Once per engine project: fail fast (never skip) when the engine is not reachable, and after the
 * run remove anything left behind with the test label, even by a crashed earlier run.
 */
import type { TestProject } from "vitest/node"
import { type EngineId, engineTarget, HOW_TO_START } from "./engines.js"
import { TEST_LABEL } from "./labels.js"
import { rawRequest } from "./raw-daemon.js"

const removeLeftovers = async (host: string): Promise<void> => {
  const filters = encodeURIComponent(JSON.stringify({ label: [TEST_LABEL] }))
  const containers = await rawRequest(host, "GET", `/containers/json?all=1&filters=${filters}`)
  for (const c of JSON.parse(containers.body) as Array<{ Id: string }>) {
    await rawRequest(host, "DELETE", `/containers/${c.Id}?force=1&v=1`)
  }
  const networks = await rawRequest(host, "GET", `/networks?filters=${filters}`)
  for (const n of JSON.parse(networks.body) as Array<{ Id: string }>) {
    await rawRequest(host, "DELETE", `/networks/${n.Id}`)
  }
  const volumes = await rawRequest(host, "GET", `/volumes?filters=${filters}`)
  for (const v of (JSON.parse(volumes.body) as { Volumes: Array<{ Name: string }> | null }).Volumes ?? []) {
    await rawRequest(host, "DELETE", `/volumes/${encodeURIComponent(v.Name)}?force=1`)
  }
  const images = await rawRequest(host, "GET", `/images/json?filters=${filters}`)
  for (const i of JSON.parse(images.body) as Array<{ Id: string }>) {
    await rawRequest(host, "DELETE", `/images/${i.Id}?force=1`)
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
  await removeLeftovers(target.host)
  return async () => {
    await removeLeftovers(target.host)
  }
}
