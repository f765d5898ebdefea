/**
 * The two parts of undici the engine uses, `Pool` and `buildConnector`, imported from their own
 * modules. undici's package root evaluates all of undici (fetch, WebSocket, caches, mocks…):
 * ≈ 100 ms at start-up on the bench machine, against ≈ 35 ms for these two (bench/README.md,
 * "Start-up"). undici has no `exports` map, so Node and bundlers resolve these files like any
 * other; `test/unit/engine/undici.test.ts` checks they are the root's own `Pool` and
 * `buildConnector`, so an undici release that moves them fails there, not in a user's program.
 */
import type * as Undici from "undici"
import buildConnectorModule from "undici/lib/core/connect.js"
import PoolModule from "undici/lib/dispatcher/pool.js"

/** undici's `Pool`. */
export const Pool: typeof Undici.Pool = PoolModule
/** undici's `buildConnector`. */
export const buildConnector: typeof Undici.buildConnector = buildConnectorModule
