/**
 * `Images`: every image operation of the Engine API — list, inspect, history, tag, remove, prune,
 * search, commit, save (one or many), and the streaming ones: build, pull, import, push, load.
 *
 * Each streaming operation comes twice: `…Stream` is the daemon's typed progress messages (failing
 * with `InStreamError` when the daemon reports an error inside the stream; non-JSON noise is
 * dropped), and the plain name runs it to completion and returns what it produced (the image ID of
 * a build or import, the digest of a push or pull, the names of a load), failing with
 * `IncompleteStreamError` if the stream ended without saying so.
 *
 * Registry credentials: by default what the Docker CLI would send (`config.json`, `credsStore`,
 * `credHelpers`), else explicit `RegistryCredentials` (secrets `Redacted`), or `"anonymous"`.
 * Push always sends `X-Registry-Auth` (`{}` when anonymous: Docker 20.10 refuses a push without it).
 */
import * as Context from "effect/Context"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Redacted from "effect/Redacted"
import * as Stream from "effect/Stream"
import { BuildContextError, directoryContext } from "../archive/build-context.js"
import type { SecretSource, SshAgentSource } from "../buildkit/providers.js"
import type { BuildKitSessionError } from "../buildkit/session.js"
import { definedOnly } from "../core/defined.js"
import { type DockerError, IncompleteStreamError, type SshKeyError } from "../core/errors.js"
import { lazyDescriptor, streamWithDescriptor, withDescriptor } from "../core/lazy.js"
import {
  allCredentials,
  type CredentialLookupOptions,
  type CredentialsError,
  credentialsForRegistry
} from "../docker-cli/credentials.js"
import {
  fullImageId,
  type ImageReference,
  InvalidReferenceError,
  parseReference,
  parseTaggableReference,
  tagProblem
} from "../docker-cli/reference.js"
import { DockerEngine, type DockerEngineShape } from "../engine/engine.js"
import { type ImageClient, makeImageClient } from "../generated/clients/image.js"
import type { DistributionInspect } from "../generated/operations/distribution/DistributionInspect.js"
import type { ImageBuildArgs } from "../generated/operations/image/ImageBuild.js"
import type { ImageSearch } from "../generated/operations/image/ImageSearch.js"
import type { SystemAuth } from "../generated/operations/system/SystemAuth.js"
import type { BuildInfo } from "../generated/schemas/BuildInfo.js"
import type { ContainerConfig } from "../generated/schemas/ContainerConfig.js"
import type { CreateImageInfo } from "../generated/schemas/CreateImageInfo.js"
import type { Filters } from "../generated/schemas/Filters.js"
import type { OCIPlatform } from "../generated/schemas/OCIPlatform.js"
import type { PushImageInfo } from "../generated/schemas/PushImageInfo.js"
import { streamWithBodyStream } from "../wire/body-stream.js"
import type { BuildFailedError, BuildKitEvent, StepState, VertexWarningEvent } from "../wire/buildkit-status.js"
import {
  type BuildFold,
  buildResult,
  emptyBuildFold,
  foldBuild,
  foldImport,
  foldLoad,
  foldPull,
  foldPush,
  type ImageBuildResult,
  type ImageLoadResult,
  type ImagePullResult,
  type ImagePushResult,
  pullResult
} from "../wire/progress.js"
import { encodeRegistryConfig, type RegistryCredentials } from "../wire/registry-auth.js"
import { registryAuthHeader, type RegistryAuthOption, type RegistryError, registryRefusal } from "./registry-access.js"

const DistributionInspect$ = lazyDescriptor(() =>
  import("../generated/operations/distribution/DistributionInspect.js").then((m) => m.DistributionInspect)
)
const ImageBuild$ = lazyDescriptor(() =>
  import("../generated/operations/image/ImageBuild.js").then((m) => m.ImageBuild)
)
const ImageCommit$ = lazyDescriptor(() =>
  import("../generated/operations/image/ImageCommit.js").then((m) => m.ImageCommit)
)
const ImageCreate$ = lazyDescriptor(() =>
  import("../generated/operations/image/ImageCreate.js").then((m) => m.ImageCreate)
)
const ImageGet$ = lazyDescriptor(() => import("../generated/operations/image/ImageGet.js").then((m) => m.ImageGet))
const ImageGetAll$ = lazyDescriptor(() =>
  import("../generated/operations/image/ImageGetAll.js").then((m) => m.ImageGetAll)
)
const ImageLoad$ = lazyDescriptor(() => import("../generated/operations/image/ImageLoad.js").then((m) => m.ImageLoad))
const ImagePush$ = lazyDescriptor(() => import("../generated/operations/image/ImagePush.js").then((m) => m.ImagePush))
const ImageSearch$ = lazyDescriptor(() =>
  import("../generated/operations/image/ImageSearch.js").then((m) => m.ImageSearch)
)
const ImageTag$ = lazyDescriptor(() => import("../generated/operations/image/ImageTag.js").then((m) => m.ImageTag))
const SystemAuth$ = lazyDescriptor(() =>
  import("../generated/operations/system/SystemAuth.js").then((m) => m.SystemAuth)
)

export { BuildContextError } from "../archive/build-context.js"
export type { SecretSource, SshAgentSource, SshKeySource } from "../buildkit/providers.js"
export type { BuildKitSessionError } from "../buildkit/session.js"
export type { ImageBuildResult, ImageLoadResult, ImagePullResult, ImagePushResult } from "../wire/progress.js"

export { type RegistryAuthOption, type RegistryError, registryRefusal } from "./registry-access.js"

/** Called with each progress message of a run-to-completion operation (e.g. `terminalProgress()`). */
export type ProgressSink<M> = (message: M) => Effect.Effect<void>

/** Options of `Images.pull` / `pullStream`. */
export interface ImagePullOptions {
  /** `os[/arch[/variant]]`. */
  readonly platform?: string | undefined
  /** Registry credentials: `"config"` (default) as the Docker CLI finds them, `"anonymous"`, or explicit ones (`registryCredentials`). */
  readonly auth?: RegistryAuthOption | undefined
  /** Pull every tag of the repository (a reference without tag then means all tags, not `latest`). */
  readonly allTags?: boolean | undefined
  /** Called with each progress message (e.g. `terminalProgress()`). */
  readonly onProgress?: ProgressSink<CreateImageInfo> | undefined
}

/** Options of `Images.push` / `pushStream`. */
export interface ImagePushOptions {
  /** The tag to push; default the reference's tag, or every tag of the repository when it has none. */
  readonly tag?: string | undefined
  /** The platform variant to push (API 1.46+). */
  readonly platform?: OCIPlatform | undefined
  /** Registry credentials: `"config"` (default) as the Docker CLI finds them, `"anonymous"`, or explicit ones (`registryCredentials`). */
  readonly auth?: RegistryAuthOption | undefined
  /** Called with each progress message (e.g. `terminalProgress()`). */
  readonly onProgress?: ProgressSink<PushImageInfo> | undefined
}

/** Where a build's context comes from. */
export type BuildSource<E = never> =
  /** A directory, packed as it is sent, honouring its `.dockerignore`. */
  | {
    /** The directory (its files are packed as they are read). */
    readonly directory: string
    /** Relative to the directory (default `Dockerfile`), or absolute (may be outside it). */
    readonly dockerfile?: string | undefined
    /** Patterns to use instead of the directory's `.dockerignore`. */
    readonly ignore?: ReadonlyArray<string> | undefined
  }
  /** A ready tar archive (optionally gzip/bzip2/xz-compressed). */
  | {
    /** The archive's bytes. */
    readonly tar: Stream.Stream<Uint8Array, E>
    /** The Dockerfile's path within the archive (default `Dockerfile`). */
    readonly dockerfile?: string | undefined
  }
  /** A Git repository or an HTTP(S) URL of a tarball or Dockerfile, fetched by the daemon. */
  | {
    /** The URL (`https://…/x.git#branch:dir`, a tarball, a Dockerfile). */
    readonly remote: string
    /** The Dockerfile's path within what it fetches (default `Dockerfile`). */
    readonly dockerfile?: string | undefined
  }

/** Every query parameter of `POST /build` (JSON-encoded ones as values), minus the transport's own. */
export type ImageBuildOptions =
  & Omit<ImageBuildArgs, "body" | "dockerfile" | "remote" | "registryConfig" | "contentType">
  & {
    /**
     * Registry credentials the build may use to pull base images (`X-Registry-Config`): `"config"`
     * (default) every registry's credentials the Docker CLI would send, `"none"`, or a map
     * registry → credentials.
     */
    readonly registryConfig?: "config" | "none" | Readonly<Record<string, RegistryCredentials>> | undefined
    /** Called with each progress message (e.g. `terminalProgress()`). */
    readonly onProgress?: ProgressSink<BuildInfo> | undefined
  }

/**
 * A BuildKit build (`builder: "buildkit"`, `POST /build?version=2`): the same query parameters as a
 * classic build, and what BuildKit asks the client for over the build's session.
 */
export type BuildKitBuildOptions =
  & Omit<ImageBuildArgs, "body" | "dockerfile" | "remote" | "registryConfig" | "contentType" | "version" | "session">
  & {
    /** Build with BuildKit (`version=2`). */
    readonly builder: "buildkit"
    /** `RUN --mount=type=secret,id=<id>`: id → a `Redacted` value, `{ file }` or `{ env }`. */
    readonly secrets?: Readonly<Record<string, SecretSource>> | undefined
    /**
     * `RUN --mount=type=ssh`: `true` forwards `$SSH_AUTH_SOCK` as `default`, or id → `{ socket }`
     * (an agent's) or `{ keys: [{ file } | { key: Redacted }, …] }` (the session is the agent;
     * an encrypted key needs its `passphrase`, else `SshKeyError` before anything is sent).
     */
    readonly ssh?: true | Readonly<Record<string, SshAgentSource>> | undefined
    /**
     * Registry credentials BuildKit asks for, per registry host, while pulling (`FROM`, cache):
     * `"config"` (default) as the Docker CLI finds them (config.json, credential helpers),
     * `"anonymous"`, or host → credentials.
     */
    readonly auth?: "config" | "anonymous" | Readonly<Record<string, RegistryCredentials>> | undefined
    /** `false`: no session (no secrets, SSH or registry credentials; one connection fewer). */
    readonly session?: boolean | undefined
    /** Called with each typed progress event (e.g. `buildKitProgress()` of `effect-docker/buildkit`). */
    readonly onProgress?: ProgressSink<BuildKitEvent> | undefined
  }

/** What a BuildKit build produced. */
export interface BuildKitBuildResult {
  /** The built image's ID (`moby.image.id`). */
  readonly imageId: string
  /** The tags it was given (`t`). */
  readonly tags: ReadonlyArray<string>
  /** Every step in the order BuildKit first reported it, with its last output lines. */
  readonly steps: ReadonlyArray<StepState>
  /** BuildKit's warnings about the build's steps. */
  readonly warnings: ReadonlyArray<VertexWarningEvent>
}

/** The errors of a BuildKit build. */
export type BuildKitBuildError =
  | ImageRegistryError
  | BuildContextError
  | BuildFailedError
  | BuildKitSessionError
  | SshKeyError

/** Options of `Images.importImage` / `importStream`. */
export interface ImageImportOptions {
  /** Repository for the imported image (and its `tag`). */
  readonly repo?: string | undefined
  /** Its tag (default `latest`). */
  readonly tag?: string | undefined
  /** The commit message of the imported image. */
  readonly message?: string | undefined
  /** Dockerfile instructions to apply (`CMD ["/bin/sh"]`, `ENV A=b`…). */
  readonly changes?: ReadonlyArray<string> | undefined
  /** The platform of the imported filesystem (`os[/arch[/variant]]`). */
  readonly platform?: string | undefined
  /** Called with each progress message (e.g. `terminalProgress()`). */
  readonly onProgress?: ProgressSink<CreateImageInfo> | undefined
}

/** The source of an import: a root filesystem tar stream, or a URL the daemon fetches. */
export type ImportSource<E = never> = Stream.Stream<Uint8Array, E> | {
  /** A URL the daemon fetches the tar from. */
  readonly url: string
}

/** Options of `Images.load` / `loadStream`. */
export interface ImageLoadOptions {
  /** Suppress progress (the daemon's default when the parameter is omitted is quiet; ours is not). */
  readonly quiet?: boolean | undefined
  /** Platforms to load from a multi-platform archive (API 1.48+). */
  readonly platform?: ReadonlyArray<OCIPlatform> | undefined
  /** Called with each progress message (e.g. `terminalProgress()`). */
  readonly onProgress?: ProgressSink<BuildInfo> | undefined
}

/** Options of `Images.commit`. */
export interface ImageCommitOptions {
  /** `repository[:tag]` for the new image (or use `repo` and `tag`). */
  readonly reference?: string | undefined
  /** The repository for the new image (or use `reference`). */
  readonly repo?: string | undefined
  /** Its tag (default `latest`). */
  readonly tag?: string | undefined
  /** The commit message. */
  readonly comment?: string | undefined
  /** The author (`Name <email>`). */
  readonly author?: string | undefined
  /** Pause the container while committing (daemon default `true`). */
  readonly pause?: boolean | undefined
  /** Dockerfile instructions to apply (`CMD …`, `ENV …`, `LABEL …`…). */
  readonly changes?: ReadonlyArray<string> | undefined
  /** Container configuration for the image (overrides the container's). */
  readonly config?: ContainerConfig | undefined
}

/** Options of `Images.search`. */
export interface ImageSearchOptions {
  /** At most this many results. */
  readonly limit?: number | undefined
  /** The daemon's search filters (`is-official`, `stars`…). */
  readonly filters?: Filters | undefined
  /** Registry credentials: `"config"` (default) as the Docker CLI finds them, `"anonymous"`, or explicit ones (`registryCredentials`). */
  readonly auth?: RegistryAuthOption | undefined
}

/** Options of `Images.distribution`. */
export interface ImageDistributionOptions {
  /** Registry credentials: `"config"` (default) as the Docker CLI finds them, `"anonymous"`, or explicit ones (`registryCredentials`). */
  readonly auth?: RegistryAuthOption | undefined
}

/** Options of `Images.login`: the credentials to check. */
export interface ImageLoginOptions {
  /** The registry user. */
  readonly username: string
  /** The password or token (`Redacted`: it never appears in logs or errors). */
  readonly password: RegistryCredentials["password"]
  /** The registry (default Docker Hub). */
  readonly serverAddress?: string | undefined
}

/**
 * The errors of an operation that talks to a registry through the daemon: the daemon's, finding
 * the credentials (`CredentialsError`), and a reference refused before anything is sent.
 */
export type ImageRegistryError = RegistryError | InvalidReferenceError

/** A parsed reference as an Effect: refused references fail before anything is sent. */
const checked = (
  parsed: ImageReference | InvalidReferenceError
): Effect.Effect<ImageReference, InvalidReferenceError> =>
  parsed instanceof InvalidReferenceError ? Effect.fail(parsed) : Effect.succeed(parsed)

/**
 * Every image operation: the generated pass-throughs (`ImageClient`: list, inspect, history,
 * remove, prune, pruneBuildCache) and the methods below, which decide something (credentials,
 * references, progress streams run to completion).
 */
export interface ImagesShape extends ImageClient {
  /**
   * `POST /images/{name}/tag`: `target` is `repository[:tag]` (tag default `latest`), checked as
   * the CLI checks it (`InvalidReferenceError` before anything is sent).
   */
  readonly tag: (name: string, target: string) => Effect.Effect<void, DockerError | InvalidReferenceError>
  /** `GET /images/search` (qualify the term with a registry: `host:port/name`). */
  readonly search: (
    term: string,
    options?: ImageSearchOptions
  ) => Effect.Effect<ImageSearch.Response, ImageRegistryError>
  /** `POST /commit`: a container's filesystem and configuration as a new image; its ID. */
  readonly commit: (
    container: string,
    options?: ImageCommitOptions
  ) => Effect.Effect<string, DockerError | InvalidReferenceError>
  /** `GET /images/{name}/get`, or `GET /images/get?names=…` for several: a tar archive. */
  readonly save: (
    names: string | ReadonlyArray<string>,
    options?: { readonly platform?: ReadonlyArray<OCIPlatform> | undefined }
  ) => Stream.Stream<Uint8Array, DockerError>
  /**
   * `GET /distribution/{name}/json`: what the registry says about `reference` — its manifest's
   * descriptor (digest, media type, size) and platforms — without pulling it. The reference is
   * checked and the credentials found as for `pull`; a refusal is `Unauthorized`.
   */
  readonly distribution: (
    reference: string,
    options?: ImageDistributionOptions
  ) => Effect.Effect<DistributionInspect.Response, ImageRegistryError>
  /** `POST /auth`: checks credentials with the registry; an identity token when it issues one. */
  readonly login: (options: ImageLoginOptions) => Effect.Effect<SystemAuth.Response, DockerError>

  /** `POST /build` progress. */
  readonly buildStream: <E = never>(
    source: BuildSource<E>,
    options?: ImageBuildOptions
  ) => Stream.Stream<BuildInfo, ImageRegistryError | BuildContextError | E>
  /**
   * `POST /build` to completion: the image ID (and tags, output). With `builder: "buildkit"`, a
   * BuildKit build with its session (secrets, SSH, registry credentials) and typed progress.
   */
  readonly build: {
    <E = never>(
      source: BuildSource<E>,
      options: BuildKitBuildOptions
    ): Effect.Effect<BuildKitBuildResult, BuildKitBuildError | IncompleteStreamError | E>
    <E = never>(
      source: BuildSource<E>,
      options?: ImageBuildOptions
    ): Effect.Effect<ImageBuildResult, ImageRegistryError | BuildContextError | IncompleteStreamError | E>
  }
  /** A BuildKit build's typed progress (vertices, statuses, logs, warnings, the image ID). */
  readonly buildKitStream: <E = never>(
    source: BuildSource<E>,
    options?: Omit<BuildKitBuildOptions, "builder"> & { readonly builder?: "buildkit" | undefined }
  ) => Stream.Stream<BuildKitEvent, BuildKitBuildError | E>
  /** `POST /images/create?fromImage=…` progress. */
  readonly pullStream: (
    reference: string,
    options?: ImagePullOptions
  ) => Stream.Stream<CreateImageInfo, ImageRegistryError>
  /** Pulls to completion: the digest and the daemon's final status. */
  readonly pull: (
    reference: string,
    options?: ImagePullOptions
  ) => Effect.Effect<ImagePullResult, ImageRegistryError | IncompleteStreamError>
  /** `POST /images/create?fromSrc=…` progress. */
  readonly importStream: <E = never>(
    source: ImportSource<E>,
    options?: ImageImportOptions
  ) => Stream.Stream<CreateImageInfo, DockerError | E>
  /** Imports to completion: the new image's ID. */
  readonly importImage: <E = never>(
    source: ImportSource<E>,
    options?: ImageImportOptions
  ) => Effect.Effect<string, DockerError | IncompleteStreamError | E>
  /** `POST /images/{name}/push` progress. */
  readonly pushStream: (name: string, options?: ImagePushOptions) => Stream.Stream<PushImageInfo, ImageRegistryError>
  /** Pushes to completion: the digest the registry stored. */
  readonly push: (
    name: string,
    options?: ImagePushOptions
  ) => Effect.Effect<ImagePushResult, ImageRegistryError | IncompleteStreamError>
  /** `POST /images/load` progress. */
  readonly loadStream: <E = never>(
    tar: Stream.Stream<Uint8Array, E>,
    options?: ImageLoadOptions
  ) => Stream.Stream<BuildInfo, DockerError | E>
  /** Loads to completion: the loaded images' names (and IDs of untagged ones). */
  readonly load: <E = never>(
    tar: Stream.Stream<Uint8Array, E>,
    options?: ImageLoadOptions
  ) => Effect.Effect<ImageLoadResult, DockerError | IncompleteStreamError | E>
}

/** Options of the `Images` layer. */
export interface ImagesOptions {
  /** Where `"config"` credentials come from (default: `$DOCKER_CONFIG`, `PATH` of this process). */
  readonly credentials?: CredentialLookupOptions | undefined
}

/**
 * Runs a progress stream to its result. `complete` is asked when the stream ended without the
 * message that says what it produced (Podman's pull has no final `Status:` line): it looks at
 * the result itself (inspects the image) and says, or `undefined` when there is none.
 */
const runToResult = <M, S, R, E, E2 = never>(
  operation: string,
  stream: Stream.Stream<M, E>,
  onProgress: ProgressSink<M> | undefined,
  initial: S,
  fold: (state: S, message: M) => S,
  result: (state: S) => R | undefined,
  missing: string,
  complete?: (state: S) => Effect.Effect<R | undefined, E2>
): Effect.Effect<R, E | E2 | IncompleteStreamError> =>
  (onProgress ? Stream.tap(stream, onProgress) : stream).pipe(
    Stream.runFold(() => initial, fold),
    Effect.flatMap((state) => {
      const value = result(state)
      const incomplete = new IncompleteStreamError({ operation, message: `${operation}: ${missing}` })
      if (value !== undefined) return Effect.succeed(value)
      if (complete === undefined) return Effect.fail(incomplete)
      return Effect.flatMap(complete(state), (completed) =>
        completed === undefined ? Effect.fail(incomplete) : Effect.succeed(completed))
    })
  )

/** The BuildKit path, loaded on first use (with `node:http2`): nothing for programs that never use it. */
const buildKit = lazyDescriptor(() => import("../buildkit/build.js"))

const isBuildKit = (options: ImageBuildOptions | BuildKitBuildOptions): options is BuildKitBuildOptions =>
  "builder" in options && options.builder === "buildkit"

/** A build source as `POST /build` arguments (the Dockerfile, a remote) and the body to send. */
const buildContext = <E>(source: BuildSource<E>): {
  readonly args: Partial<ImageBuildArgs>
  readonly body: Stream.Stream<Uint8Array, E | BuildContextError> | undefined
} => {
  if ("remote" in source) {
    return { args: definedOnly({ dockerfile: source.dockerfile, remote: source.remote }), body: undefined }
  }
  const tar = "directory" in source
    ? directoryContext(source.directory, { dockerfile: source.dockerfile, ignore: source.ignore })
    : { tar: source.tar, dockerfile: source.dockerfile }
  return { args: definedOnly({ dockerfile: tar.dockerfile, contentType: "application/x-tar" as const }), body: tar.tar }
}

/** The Images service over `engine`: the generated pass-throughs, and the decisions. */
export const makeImages = (engine: DockerEngineShape, options: ImagesOptions = {}): ImagesShape => {
  const lookup = options.credentials ?? {}
  const client = makeImageClient(engine)

  const authHeader = (auth: RegistryAuthOption | undefined, reference: string) =>
    registryAuthHeader(auth, reference, lookup)

  const pullStream = (
    reference: string,
    options: ImagePullOptions = {}
  ): Stream.Stream<CreateImageInfo, ImageRegistryError> =>
    Stream.unwrap(Effect.gen(function*() {
      const ref = yield* checked(parseReference(reference, "ImageCreate"))
      const registryAuth = yield* authHeader(options.auth, reference)
      return streamWithDescriptor(ImageCreate$, (d) =>
        engine.messages(
          d,
          definedOnly({
            fromImage: ref.familiarName,
            // A digest pins the content; the tag beside it (`name:tag@digest`) is only a label.
            tag: ref.digest ?? ref.tag ?? (options.allTags ? undefined : "latest"),
            platform: options.platform,
            registryAuth
          })
        ))
    })).pipe(Stream.mapError(registryRefusal))

  const pushStream = (name: string, options: ImagePushOptions = {}): Stream.Stream<PushImageInfo, ImageRegistryError> =>
    Stream.unwrap(Effect.gen(function*() {
      const ref = yield* checked(parseTaggableReference(name, "ImagePush"))
      const tagRefused = options.tag === undefined ? undefined : tagProblem(options.tag, "ImagePush")
      if (tagRefused) return yield* tagRefused
      const registryAuth = yield* authHeader(options.auth, name)
      return streamWithDescriptor(ImagePush$, (d) =>
        engine.messages(
          d,
          definedOnly({ name: ref.familiarName, tag: options.tag ?? ref.tag, platform: options.platform, registryAuth })
        ))
    })).pipe(Stream.mapError(registryRefusal))

  const buildStream = <E>(
    source: BuildSource<E>,
    options: ImageBuildOptions = {}
  ): Stream.Stream<BuildInfo, ImageRegistryError | BuildContextError | E> => {
    const { onProgress: _onProgress, registryConfig: config, ...query } = options
    const registryConfig: Effect.Effect<string | undefined, CredentialsError> = config === "none"
      ? Effect.succeed(undefined)
      : config === undefined || config === "config"
      ? Effect.map(
        allCredentials(lookup),
        (all) => Object.keys(all).length === 0 ? undefined : encodeRegistryConfig(all)
      )
      : Effect.succeed(encodeRegistryConfig(config))
    return Stream.unwrap(
      Effect.map(registryConfig, (header): Stream.Stream<BuildInfo, DockerError | BuildContextError | E> => {
        const context = buildContext(source)
        const args = definedOnly({ version: "1" as const, ...query, ...context.args, registryConfig: header })
        return context.body === undefined
          ? streamWithDescriptor(ImageBuild$, (d) => engine.messages(d, args))
          : streamWithBodyStream(
            context.body,
            (body) => streamWithDescriptor(ImageBuild$, (d) => engine.messages(d, { ...args, body }))
          )
      })
    ).pipe(Stream.mapError(registryRefusal))
  }

  const buildKitStream = <E>(
    source: BuildSource<E>,
    options: Omit<BuildKitBuildOptions, "builder"> = {}
  ): Stream.Stream<BuildKitEvent, BuildKitBuildError | E> => {
    const { onProgress: _onProgress, secrets, ssh, auth, session, ...query } = options
    const credentials = auth === "anonymous"
      ? () => Effect.succeed(undefined)
      : auth === undefined || auth === "config"
      ? (host: string) => credentialsForRegistry(host, lookup)
      : (host: string) => Effect.succeed(Object.hasOwn(auth, host) ? auth[host] : undefined)
    return streamWithDescriptor(buildKit, (module) => {
      const context = buildContext(source)
      return module.buildKitStream(
        engine,
        definedOnly({ ...query, ...context.args }),
        context.body,
        session === false ? false : { secrets, ssh, credentials, env: lookup.env },
        registryRefusal
      )
    }).pipe(Stream.mapError(registryRefusal)) as Stream.Stream<BuildKitEvent, BuildKitBuildError | E>
  }

  const buildKit_ = <E>(
    source: BuildSource<E>,
    options: BuildKitBuildOptions
  ): Effect.Effect<BuildKitBuildResult, BuildKitBuildError | IncompleteStreamError | E> =>
    withDescriptor(
      buildKit,
      (module) =>
        Effect.flatMap(module.foldBuildKit(buildKitStream(source, options), options.onProgress), (progress) =>
          progress.imageId === undefined
            ? Effect.fail(
              new IncompleteStreamError({
                operation: "ImageBuild",
                message: "ImageBuild: the build stream ended without the built image's ID"
              })
            )
            : Effect.succeed({
              imageId: progress.imageId,
              tags: options.t ?? [],
              steps: [...progress.steps.keys()].map((digest) => ({
                vertex: progress.steps.get(digest)!.vertex,
                lines: progress.linesOf(digest)
              })),
              warnings: progress.warnings
            }))
    )

  const importStream = <E>(
    source: ImportSource<E>,
    options: ImageImportOptions = {}
  ): Stream.Stream<CreateImageInfo, DockerError | E> => {
    const query = definedOnly({
      repo: options.repo,
      tag: options.tag,
      message: options.message,
      changes: options.changes,
      platform: options.platform
    })
    if ("url" in source) {
      return streamWithDescriptor(ImageCreate$, (d) => engine.messages(d, { ...query, fromSrc: source.url }))
    }
    return streamWithBodyStream(
      source,
      (body) => streamWithDescriptor(ImageCreate$, (d) => engine.messages(d, { ...query, fromSrc: "-", body }))
    )
  }

  const loadStream = <E>(
    tar: Stream.Stream<Uint8Array, E>,
    options: ImageLoadOptions = {}
  ): Stream.Stream<BuildInfo, DockerError | E> =>
    streamWithBodyStream(
      tar,
      (body) =>
        streamWithDescriptor(ImageLoad$, (d) =>
          engine.messages(d, definedOnly({ quiet: options.quiet ?? false, platform: options.platform, body })))
    )

  return {
    ...client,
    tag: (name, target) =>
      Effect.flatMap(
        checked(parseTaggableReference(target, "ImageTag")),
        (ref) =>
          withDescriptor(ImageTag$, (d) => engine.empty(d, { name, repo: ref.familiarName, tag: ref.tag ?? "latest" }))
      ),
    search: (term, options = {}) =>
      term === ""
        ? Effect.fail(
          new InvalidReferenceError({
            operation: "ImageSearch",
            reference: term,
            rule: "empty",
            message: "ImageSearch: the search term is empty"
          })
        )
        : Effect.flatMap(
          authHeader(options.auth ?? "config", term),
          (registryAuth) =>
            withDescriptor(ImageSearch$, (d) =>
              engine.json(
                d,
                definedOnly({ term, limit: options.limit, filters: options.filters, registryAuth })
              ))
        ).pipe(Effect.mapError(registryRefusal)),
    commit: (container, options = {}) => {
      // `reference`, or `repo` with its `tag`, is what the new image is tagged as: checked whole.
      const target = options.reference ??
        (options.repo === undefined
          ? undefined
          : options.tag === undefined
          ? options.repo
          : `${options.repo}:${options.tag}`)
      const parsed = target === undefined ? undefined : parseTaggableReference(target, "ImageCommit")
      if (parsed instanceof InvalidReferenceError) return Effect.fail(parsed)
      return Effect.map(
        withDescriptor(ImageCommit$, (d) =>
          engine.json(
            d,
            definedOnly({
              container,
              repo: parsed?.familiarName,
              tag: parsed?.tag,
              comment: options.comment,
              author: options.author,
              pause: options.pause,
              changes: options.changes,
              // Podman decodes the body unconditionally (no body: 500 "Decode(): EOF"); `{}` is
              // Docker's "no overrides" too.
              body: options.config ?? {}
            })
          )),
        // Podman's Id has no `sha256:` (Docker's does).
        (created) => fullImageId(created.Id)
      )
    },
    save: (names, options = {}) =>
      typeof names === "string"
        ? streamWithDescriptor(ImageGet$, (d) =>
          engine.stream(d, definedOnly({ name: names, platform: options.platform })))
        : streamWithDescriptor(ImageGetAll$, (d) =>
          engine.stream(d, definedOnly({ names, platform: options.platform }))),
    distribution: (reference, options = {}) =>
      Effect.gen(function*() {
        const ref = yield* checked(parseReference(reference, "DistributionInspect"))
        const registryAuth = yield* authHeader(options.auth, reference)
        // Sent in its familiar form, as pull sends it; without a tag the daemon asks for `latest`.
        const name = `${ref.familiarName}${ref.tag === undefined ? "" : `:${ref.tag}`}` +
          (ref.digest === undefined ? "" : `@${ref.digest}`)
        return yield* withDescriptor(DistributionInspect$, (d) => engine.json(d, { name, registryAuth }))
      }).pipe(Effect.mapError(registryRefusal)),
    login: (options) =>
      withDescriptor(SystemAuth$, (d) =>
        engine.json(d, {
          body: definedOnly({
            username: options.username,
            password: options.password === undefined ? undefined : redactedValue(options.password),
            serveraddress: options.serverAddress
          })
        })).pipe(Effect.mapError(registryRefusal)),

    buildStream,
    buildKitStream,
    build:
      ((source: BuildSource<unknown>, options: ImageBuildOptions | BuildKitBuildOptions = {}) =>
        isBuildKit(options) ? buildKit_(source, options) : runToResult(
          "ImageBuild",
          buildStream(source, options),
          options.onProgress,
          emptyBuildFold as BuildFold,
          foldBuild,
          buildResult,
          "the build stream ended without the built image's ID"
        )) as ImagesShape["build"],
    pullStream,
    pull: (reference, options = {}) =>
      runToResult(
        "ImageCreate",
        pullStream(reference, options),
        options.onProgress,
        { digest: undefined, status: undefined },
        foldPull,
        pullResult,
        "the pull stream ended without its final status",
        // Podman ends a pull without `Status: …` and `Digest: …`: the pull completed if the image
        // is there now (its last status is the result's). No digest: the image's RepoDigests
        // cannot say which is the pulled one (Podman keeps one per manifest it ever made of it).
        (state) =>
          state.last === undefined ? Effect.succeed(undefined) : client.inspect(reference).pipe(
            Effect.map((): ImagePullResult => ({ digest: state.digest, status: state.last! })),
            Effect.catchTag("NotFound", () => Effect.succeed(undefined)),
            Effect.mapError(registryRefusal)
          )
      ),
    importStream,
    importImage: (source, options = {}) =>
      runToResult(
        "ImageCreate",
        importStream(source, options),
        options.onProgress,
        undefined as string | undefined,
        foldImport,
        (id) => id,
        "the import stream ended without the new image's ID"
      ),
    pushStream,
    push: (name, options = {}) =>
      runToResult(
        "ImagePush",
        pushStream(name, options),
        options.onProgress,
        undefined as ImagePushResult | undefined,
        foldPush,
        (result) => result,
        "the push stream ended without the pushed digest"
      ),
    loadStream,
    load: (tar, options = {}) =>
      runToResult(
        "ImageLoad",
        loadStream(tar, options),
        options.onProgress,
        { names: [], ids: [] } as ImageLoadResult,
        foldLoad,
        (result) => result.names.length + result.ids.length === 0 ? undefined : result,
        "the load stream ended without naming a loaded image"
      )
  }
}

// Read the secret only where the request body is built.
const redactedValue = (value: Redacted.Redacted<string>): string => Redacted.value(value)

/** The Images service: every image operation (see `ImagesShape`). */
export class Images extends Context.Service<Images, ImagesShape>()("effect-docker/Images") {
  /** Images over the `DockerEngine`, with credentials found as the Docker CLI finds them. */
  static readonly layer: Layer.Layer<Images, never, DockerEngine> = Layer.effect(Images)(
    Effect.map(DockerEngine, (engine) => makeImages(engine))
  )
  /** Images with explicit options (where `"config"` credentials are looked up). */
  static readonly layerWith = (options: ImagesOptions): Layer.Layer<Images, never, DockerEngine> =>
    Layer.effect(Images)(Effect.map(DockerEngine, (engine) => makeImages(engine, options)))
}
