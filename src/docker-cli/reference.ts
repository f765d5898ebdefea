/**
 * Image references as the Docker CLI reads them (the grammar of `distribution/reference`, which
 * the CLI and the daemon share): parsed and checked before anything is sent, the registry they
 * name (how credentials are keyed), and Docker Hub's normalisation (`busybox` is
 * `docker.io/library/busybox`). Pure.
 *
 *   reference := name [":" tag] ["@" digest]
 *   name      := [domain "/"] component ("/" component)*
 *   domain    := host [":" port]    host: DNS-like labels, or an IPv6 address in brackets
 *   component := [a-z0-9]+ (separator [a-z0-9]+)*     separator: ".", "_", "__", or dashes
 *   tag       := [A-Za-z0-9_][A-Za-z0-9_.-]{0,127}
 *   digest    := algorithm ":" hex, checked as the daemon checks it (sha256/384/512, exact length)
 */
import * as Data from "effect/Data"

/** How Docker Hub's credentials are keyed in `config.json` and credential stores. */
export const DOCKER_HUB_AUTH_KEY = "https://index.docker.io/v1/"

const HUB_DOMAIN = "docker.io"
const OFFICIAL_PREFIX = "library/"
/** The daemon's limit on a repository name (domain and path), in characters. */
const NAME_MAX = 255

/** Which rule of the reference grammar a reference breaks. */
export type ReferenceRule =
  | "empty"
  | "lowercase"
  | "name-format"
  | "domain-format"
  | "tag-format"
  | "digest-format"
  | "name-too-long"
  | "image-id"
  | "digest-not-allowed"

/** An image reference the daemon would refuse or misread, refused before anything is sent. */
export class InvalidReferenceError extends Data.TaggedError("InvalidReferenceError")<{
  /** The operation that was refused (its operationId). */
  readonly operation: string
  /** The reference as given. */
  readonly reference: string
  /** Which rule it broke. */
  readonly rule: ReferenceRule
  /** `${operation}: invalid image reference "${reference}": ${what the rule says}` */
  readonly message: string
}> {}

/** A parsed image reference. */
export interface ImageReference {
  /** The registry host (and port); `docker.io` for Docker Hub. */
  readonly domain: string
  /** The repository path within the registry: `library/busybox`, `a/b`. */
  readonly path: string
  /** The short form the CLI shows and sends: `busybox`, `127.0.0.1:5000/a/b`. */
  readonly familiarName: string
  /** The tag (`latest`, `1.36`), when it has one. */
  readonly tag: string | undefined
  /** `sha256:<hex>`. */
  readonly digest: string | undefined
}

const COMPONENT = /^[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*$/
const DOMAIN_LABEL = /^(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9])$/
const PORT = /^[0-9]+$/
const IPV6 = /^\[[a-fA-F0-9:]+\]$/
const TAG = /^\w[\w.-]{0,127}$/
const DIGEST = /^[A-Za-z][A-Za-z0-9]*(?:[-_+.][A-Za-z][A-Za-z0-9]*)*:[0-9a-fA-F]{32,}$/
const IMAGE_ID = /^[a-f0-9]{64}$/
/** The algorithms the daemon accepts, and their hex lengths (go-digest). */
const DIGEST_HEX_LENGTH: Readonly<Record<string, number>> = { sha256: 64, sha384: 96, sha512: 128 }

/**
 * Splits off the registry as `distribution/reference` does: the first component is a domain if
 * it is `localhost`, has a `.` or `:`, or has an uppercase letter (repository paths cannot);
 * else the reference is on Docker Hub, where a one-component path is an official image.
 */
const splitDomain = (name: string): { readonly domain: string; readonly path: string } => {
  const slash = name.indexOf("/")
  if (slash < 0) return { domain: HUB_DOMAIN, path: OFFICIAL_PREFIX + name }
  const first = name.slice(0, slash)
  const rest = name.slice(slash + 1)
  const isDomain = first === "localhost" || /[.:]/.test(first) || first.toLowerCase() !== first
  const domain = !isDomain || first === "index.docker.io" ? HUB_DOMAIN : first
  const path = isDomain ? rest : name
  return { domain, path: domain === HUB_DOMAIN && !path.includes("/") ? OFFICIAL_PREFIX + path : path }
}

const validDomain = (domain: string): boolean => {
  const colon = domain.startsWith("[") ? domain.indexOf("]:") + 1 : domain.lastIndexOf(":")
  const host = colon > 0 ? domain.slice(0, colon) : domain
  if (colon > 0 && !PORT.test(domain.slice(colon + 1))) return false
  return IPV6.test(host) || host.split(".").every((label) => DOMAIN_LABEL.test(label))
}

const familiar = (domain: string, path: string): string => {
  if (domain !== HUB_DOMAIN) return `${domain}/${path}`
  const official = path.startsWith(OFFICIAL_PREFIX) ? path.slice(OFFICIAL_PREFIX.length) : undefined
  return official !== undefined && !official.includes("/") ? official : path
}

const tagRule = (tag: string): string =>
  `the tag "${tag}" must be 1–128 letters, digits, "_", "." or "-", not starting with "." or "-"`

/** Why `digest` is not one the daemon accepts, or `undefined`. */
const digestProblem = (digest: string): string | undefined => {
  if (!DIGEST.test(digest)) return `the digest "${digest}" must be <algorithm>:<hex> (at least 32 hex digits)`
  const [algorithm, hex] = digest.split(":") as [string, string]
  const length = DIGEST_HEX_LENGTH[algorithm]
  if (length === undefined) return `the digest algorithm "${algorithm}" is not sha256, sha384 or sha512`
  if (hex.length !== length || hex !== hex.toLowerCase()) {
    return `a ${algorithm} digest has exactly ${length} lowercase hex digits`
  }
  return undefined
}

/** Parses without naming an operation: the rule broken and what it says, or the reference. */
const parse = (reference: string): ImageReference | { readonly rule: ReferenceRule; readonly detail: string } => {
  if (reference === "") return { rule: "empty", detail: "a reference needs a repository name" }
  if (IMAGE_ID.test(reference)) {
    return { rule: "image-id", detail: "a 64-digit hexadecimal string is an image ID, not a repository name" }
  }
  const at = reference.indexOf("@")
  const digest = at < 0 ? undefined : reference.slice(at + 1)
  const named = at < 0 ? reference : reference.slice(0, at)
  if (digest !== undefined) {
    const problem = digestProblem(digest)
    if (problem !== undefined) return { rule: "digest-format", detail: problem }
  }
  // A tag is after the last ":" that follows the last "/" (a ":" before it is a registry port).
  const colon = named.lastIndexOf(":")
  const hasTag = colon > named.lastIndexOf("/")
  const tag = hasTag ? named.slice(colon + 1) : undefined
  const name = hasTag ? named.slice(0, colon) : named
  if (tag !== undefined && !TAG.test(tag)) return { rule: "tag-format", detail: tagRule(tag) }
  if (name === "") return { rule: "empty", detail: "a reference needs a repository name" }
  const { domain, path } = splitDomain(name)
  if (domain !== HUB_DOMAIN && !validDomain(domain)) {
    return {
      rule: "domain-format",
      detail: `the registry "${domain}" is not a host name or address with an optional port`
    }
  }
  const components = path.split("/")
  if (components.some((component) => !COMPONENT.test(component))) {
    const upper = components.every((component) => COMPONENT.test(component.toLowerCase()))
    return upper
      ? { rule: "lowercase", detail: `the repository name "${path}" must be lowercase` }
      : {
        rule: "name-format",
        detail: `the repository name "${path}" must be "/"-separated components of lowercase letters and digits, ` +
          `joined by ".", "_", "__" or dashes${name.includes(":") ? ` (more than one ":" tag separator?)` : ""}`
      }
  }
  const full = `${domain}/${path}`
  if (full.length > NAME_MAX) {
    return { rule: "name-too-long", detail: `the repository name "${full}" is longer than ${NAME_MAX} characters` }
  }
  return { domain, path, familiarName: familiar(domain, path), tag, digest }
}

const refused = (operation: string, reference: string, rule: ReferenceRule, detail: string) =>
  new InvalidReferenceError({
    operation,
    reference,
    rule,
    message: `${operation}: invalid image reference ${JSON.stringify(reference)}: ${detail}`
  })

/**
 * `reference` parsed as the CLI's `ParseNormalizedNamed` reads it, or the rule it breaks (for the
 * error of `operation`).
 */
export const parseReference = (reference: string, operation: string): ImageReference | InvalidReferenceError => {
  const parsed = parse(reference)
  return "rule" in parsed ? refused(operation, reference, parsed.rule, parsed.detail) : parsed
}

/**
 * A reference that names a repository and at most a tag (what `tag`, `commit` and `push` make or
 * send: the daemon cannot create a tag from a digest).
 */
export const parseTaggableReference = (
  reference: string,
  operation: string
): ImageReference | InvalidReferenceError => {
  const parsed = parseReference(reference, operation)
  if (parsed instanceof InvalidReferenceError || parsed.digest === undefined) return parsed
  return refused(operation, reference, "digest-not-allowed", "a digest reference cannot be tagged or pushed")
}

/** Whether `tag` is one the daemon accepts (for a tag given apart from its repository). */
export const tagProblem = (tag: string, operation: string): InvalidReferenceError | undefined =>
  TAG.test(tag) ? undefined : refused(operation, tag, "tag-format", tagRule(tag))

/**
 * The registry an image reference names, keyed as the CLI keys credentials: Docker Hub's key for
 * `docker.io` (and `index.docker.io`, a one-component name, or a first component that is not a
 * domain), else the domain. Lenient: a reference that does not parse is keyed by the same split.
 */
export const registryOfReference = (reference: string): string => {
  const { domain } = splitDomain(reference.split("@")[0]!)
  return domain === HUB_DOMAIN || domain === "registry-1.docker.io" ? DOCKER_HUB_AUTH_KEY : domain
}

/** The CLI's `ConvertToHostname`: `https://host:port/v1/` → `host:port`. */
export const convertToHostname = (address: string): string => {
  let rest = address
  if (rest.startsWith("http://")) rest = rest.slice("http://".length)
  else if (rest.startsWith("https://")) rest = rest.slice("https://".length)
  const slash = rest.indexOf("/")
  return slash < 0 ? rest : rest.slice(0, slash)
}

/**
 * Whether two image references name the same image the way the daemon resolves them: Docker
 * Hub's normalisation applied (`busybox:local`, `library/busybox:local` and
 * `docker.io/library/busybox:local` are one), a missing tag is `latest`, digests compared as
 * given. Podman lists and returns the fully qualified forms (`RepoTags`, `Config.Image`, event
 * `from`) where Docker shows the familiar ones; compare with this, never with `===`. Podman's
 * `localhost/x:t` (its name for an image that came from no registry) is a registry named
 * `localhost` here too, as the Docker CLI reads it: not the same as `x:t`. A reference that
 * does not parse equals nothing (not even itself): an image ID is not a reference.
 *
 * @example
 * ```ts
 * import { sameImageReference } from "effect-docker"
 *
 * sameImageReference("busybox", "docker.io/library/busybox:latest") // true
 * sameImageReference("localhost/x:1", "x:1") // false: `localhost` is a registry
 * ```
 */
export const sameImageReference = (a: string, b: string): boolean => {
  const left = parseReference(a, "sameImageReference")
  const right = parseReference(b, "sameImageReference")
  if (left instanceof InvalidReferenceError || right instanceof InvalidReferenceError) return false
  const tag = (ref: ImageReference) => ref.tag ?? (ref.digest === undefined ? "latest" : undefined)
  return left.domain === right.domain && left.path === right.path && tag(left) === tag(right) &&
    left.digest === right.digest
}

/**
 * An image ID in the daemon's full form, `sha256:<hex>`: Podman leaves the prefix out in some
 * answers (history `Id`s, `Deleted` entries of a remove, a quiet build's line) where Docker has it.
 * Anything that is not a bare 64-hex ID is returned as given.
 */
export const fullImageId = (id: string): string => /^[0-9a-f]{64}$/.test(id) ? `sha256:${id}` : id

/** Is this an image ID (`sha256:<hex>` or the bare 64 hex digits), not a name? */
export const isImageId = (text: string): boolean => /^(?:sha256:)?[0-9a-f]{64}$/.test(text)

/**
 * The familiar form of a reference the daemon returned (`docker.io/library/busybox:local` →
 * `busybox:local`, as Docker shows it; Podman returns the fully qualified one), or the text as
 * given when it does not parse.
 */
export const familiarReference = (reference: string): string => {
  const ref = parseReference(reference, "familiarReference")
  if (ref instanceof InvalidReferenceError) return reference
  return `${ref.familiarName}${ref.tag !== undefined ? `:${ref.tag}` : ""}${
    ref.digest !== undefined ? `@${ref.digest}` : ""
  }`
}
