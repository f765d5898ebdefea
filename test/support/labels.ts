/** Every resource a test creates carries this label, so a global teardown can find leftovers. */
export const TEST_LABEL = "effect-docker.test"

/** One id per test run (shared by the workers of a run through the environment). */
export const runId = (): string => process.env.EFFECT_DOCKER_TEST_RUN ?? "dev"

export const testLabels = (): Record<string, string> => ({ [TEST_LABEL]: runId() })
