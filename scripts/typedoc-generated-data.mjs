// A TypeDoc plugin for `npm run docs` (typedoc.json): a constant of src/generated initialised with a
// data literal — an operation descriptor (`{ … } satisfies OperationDescriptor`), the availability
// table, the errata list — is shown by its doc comment and the type it `satisfies` (linked), not by
// its inferred literal type. TypeDoc would otherwise expand that type into hundreds of wire-detail
// members per operation (every `params[i].encoding`…), none of which a user reads, and its
// `notDocumented` validation would ask for a comment on each. What users read of an operation is
// its summary, its `…Args` Schema and its namespace types (`ContainerInspect.Response`), all
// documented by codegen.
import { Converter, ReflectionKind, UnknownType } from "typedoc"
import ts from "typescript"

/** The type literals of `reflection`'s type (at any depth: tuple elements, nested objects). */
const ownedTypeLiterals = (project, reflection) =>
  Object.values(project.reflections).filter((r) => {
    if (!r.kindOf(ReflectionKind.TypeLiteral)) return false
    for (let p = r.parent; p !== undefined; p = p.parent) if (p === reflection) return true
    return false
  })

/** @param {import("typedoc").Application} app */
export const load = (app) => {
  app.converter.on(Converter.EVENT_CREATE_DECLARATION, (context, reflection) => {
    if (!reflection.kindOf(ReflectionKind.Variable) || reflection.type === undefined) return
    const declaration = context.getSymbolFromReflection(reflection)?.valueDeclaration
    if (declaration === undefined || !ts.isVariableDeclaration(declaration)) return
    if (!declaration.getSourceFile().fileName.includes("/src/generated/")) return
    let init = declaration.initializer
    const satisfied = init !== undefined && ts.isSatisfiesExpression(init) ? init.type : undefined
    while (init !== undefined && (ts.isSatisfiesExpression(init) || ts.isAsExpression(init))) init = init.expression
    if (init === undefined || !(ts.isObjectLiteralExpression(init) || ts.isArrayLiteralExpression(init))) return
    for (const literal of ownedTypeLiterals(context.project, reflection)) context.project.removeReflection(literal)
    reflection.type = satisfied !== undefined
      ? context.converter.convertType(context.withScope(reflection), satisfied)
      : new UnknownType(ts.isArrayLiteralExpression(init) ? "readonly { … }[]" : "{ … }")
  })
}
