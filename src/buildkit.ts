/**
 * `effect-docker/buildkit`: BuildKit progress for programs that work with it — the renderer, the
 * fold, the decoders of the `moby.buildkit.trace` payloads. Kept out of the main entry so that
 * programs that never build with BuildKit load none of it (`Images.build` with
 * `builder: "buildkit"` loads what it needs on first use; the event types and `BuildFailedError`
 * are in the main entry, at no cost).
 */
export * from "./services/buildkit-renderer.js"
export * from "./wire/buildkit-status.js"
export { ProtoDecodeError, type ProtoField } from "./wire/protobuf.js"
