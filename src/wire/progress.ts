/**
 * Progress messages of pull, push, build, load and import: what each run amounts to (the image ID
 * after a build, the digest after a push, the loaded names…) and the per-layer board a terminal
 * shows. Pure: folding and rendering, no I/O.
 */
import type { BuildInfo } from "../generated/schemas/BuildInfo.js"
import type { CreateImageInfo } from "../generated/schemas/CreateImageInfo.js"
import type { PushImageInfo } from "../generated/schemas/PushImageInfo.js"

/** Any progress message (the fields the daemon's JSON messages share). */
export type ProgressMessage = BuildInfo | CreateImageInfo | PushImageInfo

// ---------------------------------------------------------------------------------------------
// results

/** What a build produced. */
export interface ImageBuildResult {
  /**
   * The built image's ID (`sha256:…`): the classic builder's `aux {ID}`, a quiet build's only
   * message, else `Successfully built`.
   */
  readonly imageId: string
  /** The tags the daemon applied (`Successfully tagged …`). */
  readonly tags: ReadonlyArray<string>
  /** The build's text output (`stream` messages), as the CLI prints it. */
  readonly output: string
}

/** The fold of a classic build's messages (`foldBuild`): what the build has said so far. */
export interface BuildFold {
  /** The image ID from `aux {ID}`, when sent. */
  readonly imageId: string | undefined
  /** The short ID of `Successfully built <id>`, when sent. */
  readonly shortId: string | undefined
  /** The tags of `Successfully tagged …`. */
  readonly tags: ReadonlyArray<string>
  /** The text output so far. */
  readonly output: string
}

export const emptyBuildFold: BuildFold = { imageId: undefined, shortId: undefined, tags: [], output: "" }

const SUCCESSFULLY_BUILT = /^Successfully built ([0-9a-f]{12,64})\s*$/m
/**
 * A quiet build (`q`) says nothing but the image ID: `{"stream":"sha256:<id>\n"}` (Docker), the
 * bare hex (Podman): the result's `imageId` is `sha256:<hex>` either way (`output` keeps the text).
 */
const QUIET_ID = /^(?:sha256:)?([0-9a-f]{64})\s*$/
const SUCCESSFULLY_TAGGED = /^Successfully tagged (\S+)\s*$/gm

export const foldBuild = (state: BuildFold, message: BuildInfo): BuildFold => {
  let { imageId, shortId, tags, output } = state
  const aux = message.aux
  if (typeof aux === "object" && aux !== null && typeof aux.ID === "string") imageId = aux.ID
  if (typeof message.stream === "string") {
    output += message.stream
    const built = SUCCESSFULLY_BUILT.exec(message.stream)
    if (built) shortId = built[1]
    const quiet = QUIET_ID.exec(message.stream)
    if (quiet) imageId = `sha256:${quiet[1]}`
    // Each tag once: Podman says `Successfully tagged <t>` twice for one tag (its builder's line,
    // then the compat API's own).
    for (const tagged of message.stream.matchAll(SUCCESSFULLY_TAGGED)) {
      if (!tags.includes(tagged[1]!)) tags = [...tags, tagged[1]!]
    }
  }
  return { imageId, shortId, tags, output }
}

/** The build's result, or `undefined` when the stream never said which image it built. */
export const buildResult = (state: BuildFold): ImageBuildResult | undefined => {
  const imageId = state.imageId ?? (state.shortId !== undefined ? state.shortId : undefined)
  return imageId === undefined ? undefined : { imageId, tags: state.tags, output: state.output }
}

/** What a push produced (the last message's `aux`). */
export interface ImagePushResult {
  /** The tag that was pushed. */
  readonly tag: string | undefined
  /** The manifest digest the registry stored (`sha256:…`). */
  readonly digest: string
  /** The manifest's size in bytes. */
  readonly size: number | undefined
}

export const foldPush = (state: ImagePushResult | undefined, message: PushImageInfo): ImagePushResult | undefined => {
  const aux = message.aux
  if (aux && typeof aux.Digest === "string") return { tag: aux.Tag, digest: aux.Digest, size: aux.Size }
  // Older daemons without aux: "<tag>: digest: sha256:… size: 123".
  const text = /digest: (sha256:[0-9a-f]{64}) size: (\d+)/.exec(message.status ?? "")
  if (text && state === undefined) {
    return { tag: message.status!.split(":")[0], digest: text[1]!, size: Number(text[2]) }
  }
  return state
}

/** What a pull produced. */
export interface ImagePullResult {
  /** The manifest digest (`Digest: sha256:…`), when the daemon reported one. */
  readonly digest: string | undefined
  /** The daemon's last status line (`Status: Downloaded newer image for …`, `… Image is up to date …`). */
  readonly status: string
}

export interface PullFold {
  readonly digest: string | undefined
  readonly status: string | undefined
  /**
   * The last status of any message (`Download complete`): what a pull that ends without Docker's
   * final `Status:` line (Podman's) last said.
   */
  readonly last?: string | undefined
}

export const foldPull = (state: PullFold, message: CreateImageInfo): PullFold => {
  const status = message.status
  if (typeof status === "string") state = { ...state, last: status }
  if (typeof status !== "string" || message.id !== undefined && !status.startsWith("Digest:")) return state
  const digest = /^Digest: (\S+)/.exec(status)
  if (digest) return { ...state, digest: digest[1] }
  return status.startsWith("Status:") ? { ...state, status } : state
}

export const pullResult = (state: PullFold): ImagePullResult | undefined =>
  state.status === undefined || !state.status.startsWith("Status:")
    ? undefined
    : { digest: state.digest, status: state.status.slice("Status: ".length) }

/**
 * What a load produced: `Loaded image: name:tag` and `Loaded image ID: sha256:…` lines. Podman
 * names several images in one line, `Loaded image: a:1,b:1` (a reference has no comma).
 */
export interface ImageLoadResult {
  /** Tagged images, as `repository:tag`. */
  readonly names: ReadonlyArray<string>
  /** Untagged images, as their IDs. */
  readonly ids: ReadonlyArray<string>
}

export const foldLoad = (state: ImageLoadResult, message: BuildInfo): ImageLoadResult => {
  const text = message.stream ?? message.status ?? ""
  let { ids, names } = state
  for (const line of text.split("\n")) {
    const id = /^Loaded image ID: (\S+)/.exec(line)
    if (id) {
      ids = [...ids, id[1]!]
      continue
    }
    const name = /^Loaded image: (\S+)/.exec(line)
    if (name) names = [...names, ...name[1]!.split(",").filter((n) => n !== "")]
  }
  return { names, ids }
}

/** The image ID of an import (`{"status":"sha256:…"}`, the stream's last message). */
export const foldImport = (state: string | undefined, message: CreateImageInfo): string | undefined =>
  typeof message.status === "string" && /^sha256:[0-9a-f]{64}$/.test(message.status.trim())
    ? message.status.trim()
    : state

// ---------------------------------------------------------------------------------------------
// the terminal board: one line per layer, like the Docker CLI

const BAR_WIDTH = 40

/** `[=====>      ]` for current/total, as the CLI draws it. */
export const progressBar = (current: number, total: number, width = BAR_WIDTH): string => {
  if (!(total > 0)) return ""
  const filled = Math.max(0, Math.min(width, Math.floor((current / total) * width)))
  if (filled >= width) return `[${"=".repeat(width)}]`
  return `[${"=".repeat(filled)}>${" ".repeat(width - filled - 1)}]`
}

const units = ["B", "kB", "MB", "GB", "TB"]
/** Decimal sizes, as the CLI's `units.HumanSize` prints them (`12.3MB`). */
export const humanSize = (bytes: number): string => {
  let value = bytes
  let unit = 0
  while (value >= 1000 && unit < units.length - 1) {
    value /= 1000
    unit++
  }
  return `${unit === 0 ? value : value.toPrecision(3)}${units[unit]}`
}

/** The state of a terminal progress display: lines keyed by layer id, plus free text. */
export class ProgressBoard {
  private readonly order: Array<string> = []
  private readonly lines = new Map<string, string>()

  /**
   * Applies `message`; returns the text to print above the board (build output, messages without
   * an id), if any. The board's own lines are in `render()`.
   */
  apply(message: ProgressMessage): string | undefined {
    const stream = "stream" in message ? message.stream : undefined
    if (typeof stream === "string") return stream
    const status = message.status
    if (typeof status !== "string") return undefined
    const id = message.id
    if (id === undefined || id === "") return `${status}\n`
    const detail = message.progressDetail
    let line = `${id}: ${status}`
    if (detail && typeof detail.current === "number" && typeof detail.total === "number" && detail.total > 0) {
      line += ` ${progressBar(detail.current, detail.total)} ${humanSize(detail.current)}/${humanSize(detail.total)}`
    } else if (typeof message.progress === "string" && message.progress !== "") {
      line += ` ${message.progress}`
    }
    if (!this.lines.has(id)) this.order.push(id)
    this.lines.set(id, line)
    return undefined
  }

  /** The per-layer lines, in the order the layers first appeared. */
  render(): ReadonlyArray<string> {
    return this.order.map((id) => this.lines.get(id)!)
  }
}
