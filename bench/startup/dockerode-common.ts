// dockerode on the engine DOCKER_HOST names (a unix socket), for the dockerode children.
import Dockerode from "dockerode"

const host = process.env.DOCKER_HOST ?? "unix:///var/run/docker.sock"
export const docker = new Dockerode({ socketPath: host.replace(/^unix:\/\//, "") })
