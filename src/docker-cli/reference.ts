/**
 * Image references as the Docker CLI reads them: which registry a reference names (how
 * credentials are keyed), and the split `POST /images/create` wants. Pure.
 */

/** How Docker Hub's credentials are keyed in `config.json` and credential stores. */
export const DOCKER_HUB_AUTH_KEY = "https://index.docker.io/v1/"

/**
 * The registry an image reference names, keyed as the CLI keys credentials: the first path
 * component when it looks like a host (has `.` or `:`, or is `localhost`), else Docker Hub.
 */
export const registryOfReference = (reference: string): string => {
  const slash = reference.indexOf("/")
  if (slash < 0) return DOCKER_HUB_AUTH_KEY
  const first = reference.slice(0, slash)
  const isHost = first.includes(".") || first.includes(":") || first === "localhost"
  if (!isHost || first === "docker.io" || first === "index.docker.io" || first === "registry-1.docker.io") {
    return DOCKER_HUB_AUTH_KEY
  }
  return first
}

/** A reference split as `POST /images/create` wants it: `fromImage` without tag, and the tag or digest. */
export const splitReference = (
  reference: string
): { readonly repository: string; readonly tag: string | undefined } => {
  const at = reference.indexOf("@")
  if (at >= 0) return { repository: reference.slice(0, at), tag: reference.slice(at + 1) }
  const colon = reference.lastIndexOf(":")
  if (colon > reference.lastIndexOf("/")) {
    return { repository: reference.slice(0, colon), tag: reference.slice(colon + 1) }
  }
  return { repository: reference, tag: undefined }
}

/** The CLI's `ConvertToHostname`: `https://host:port/v1/` → `host:port`. */
export const convertToHostname = (address: string): string => {
  let rest = address
  if (rest.startsWith("http://")) rest = rest.slice("http://".length)
  else if (rest.startsWith("https://")) rest = rest.slice("https://".length)
  const slash = rest.indexOf("/")
  return slash < 0 ? rest : rest.slice(0, slash)
}
