// undici's own modules that src/engine/undici.ts imports (undici ships types for its root only).
declare module "undici/lib/dispatcher/pool.js" {
  const Pool: typeof import("undici").Pool
  export default Pool
}
declare module "undici/lib/core/connect.js" {
  const buildConnector: typeof import("undici").buildConnector
  export default buildConnector
}
