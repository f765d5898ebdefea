// ESLint with typescript-eslint and Effect's own dprint formatting rule (the setup the Effect
// repository uses), so formatting is checked by the same `npm run lint` that CI runs.
import * as effectEslint from "@effect/eslint-plugin"
import tseslint from "typescript-eslint"

export default tseslint.config(
  { ignores: ["dist/**", "node_modules/**", ".tools/**", "coverage/**", "scratch/**", "test/types/openapi.d.ts"] },
  ...tseslint.configs.recommended,
  ...effectEslint.configs.dprint,
  {
    rules: {
      "@effect/dprint": ["error", {
        config: {
          indentWidth: 2,
          lineWidth: 120,
          semiColons: "asi",
          quoteStyle: "alwaysDouble",
          trailingCommas: "never",
          operatorPosition: "maintain",
          "arrowFunction.useParentheses": "force"
        }
      }],
      "@typescript-eslint/no-unused-vars": ["error", { argsIgnorePattern: "^_", varsIgnorePattern: "^_" }],
      "@typescript-eslint/no-explicit-any": "off",
      "@typescript-eslint/no-empty-object-type": "off",
      "@typescript-eslint/no-namespace": "off"
    }
  },
  {
    // Generated code is checked for reproducibility by `codegen:check`, not restyled by hand.
    files: ["src/generated/**"],
    rules: { "@effect/dprint": "off" }
  }
)
