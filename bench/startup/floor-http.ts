// Floor: a bare node:http ping. A child of bench/startup.ts.
import http from "node:http"

const host = process.env.DOCKER_HOST ?? "unix:///var/run/docker.sock"
http.get({ socketPath: host.replace(/^unix:\/\//, ""), path: "/_ping" }, (res) => {
  let body = ""
  res.setEncoding("utf8").on("data", (c: string) => (body += c)).on("end", () => console.log(`OK ${body}`))
})
