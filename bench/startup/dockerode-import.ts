// `import "dockerode"` alone. A child of bench/startup.ts.
import "dockerode"

console.log("OK")
