// dockerode's create → attach-less start → wait → logs → remove of busybox `echo hi` (what
// `Containers.run` does). A child of bench/startup.ts.
import { docker } from "./dockerode-common.js"

const image = process.env.BENCH_IMAGE ?? "busybox:local"
const container = await docker.createContainer({
  Image: image,
  Cmd: ["echo", "hi"],
  HostConfig: { NetworkMode: "none" }
})
try {
  await container.start()
  const { StatusCode } = await container.wait()
  const logs = await container.logs({ stdout: true, stderr: true, follow: false })
  // docker-modem's demux would need streams; the frame header is 8 bytes before "hi\n"
  console.log(`OK ${StatusCode} ${logs.subarray(8).toString().trim()}`)
} finally {
  await container.remove({ force: true })
}
