/**
 * The attach/exec session code (`stdio-session.ts`, and @effect/platform-node's NodeSink and
 * NodeStream under it), loaded by the first session instead of at start-up: a program that never
 * attaches does not evaluate it (bench/README.md, "Start-up").
 */
import { lazyDescriptor } from "../core/lazy.js"

/** `stdio-session.ts`, loaded once on first use. */
export const stdioSessions = lazyDescriptor(() => import("./stdio-session.js"))
