// `import "effect-docker"` alone. A child of bench/startup.ts.
import "effect-docker"

console.log("OK")
