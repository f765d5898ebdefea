// Minimal types for the part of swagger2openapi (which ships none) that codegen/openapi.ts uses.
declare module "swagger2openapi" {
  const converter: {
    convertObj(spec: unknown, options: { patch?: boolean; warnOnly?: boolean }): Promise<{ openapi: unknown }>
  }
  export default converter
}
