/**
 * The JSON inside `X-Docker-Container-Path-Stat` (`containers.ts` decodes it): a Schema module of
 * its own, loaded by the first stat, so that importing the services evaluates no Schema.
 */
import * as Schema from "effect/Schema"

export const PathStatWire = Schema.Struct({
  name: Schema.String,
  size: Schema.Number,
  mode: Schema.Number,
  mtime: Schema.String,
  linkTarget: Schema.optionalKey(Schema.NullOr(Schema.String))
})
export type PathStatWire = typeof PathStatWire.Type
