import { describe, expect, it } from "vitest"
import { contextMatcher, parseDockerignore } from "../../../src/archive/dockerignore.js"

describe(".dockerignore parsing", () => {
  it("drops comments and blank lines, trims", () => {
    expect(parseDockerignore("# comment\n\n  *.log  \r\n!keep.log\n#x\n")).toEqual(["*.log", "!keep.log"])
  })
})

describe("contextMatcher: the CLI's rules", () => {
  const m = (patterns: Array<string>, dockerfile?: string) => contextMatcher(patterns, dockerfile)
  it("`!` re-includes, the last matching pattern wins", () => {
    const matcher = m(["*.log", "!keep.log", "keep.log.old"])
    expect(matcher.excludes("a.log")).toBe(true)
    expect(matcher.excludes("keep.log")).toBe(false)
    expect(matcher.excludes("keep.log.old")).toBe(true)
    expect(matcher.excludes("sub/a.log")).toBe(false) // `*` does not cross `/`
  })
  it("`**` matches any number of directories, including none", () => {
    const matcher = m(["**/*.tmp", "docs/**"])
    expect(matcher.excludes("a.tmp")).toBe(true)
    expect(matcher.excludes("x/y/z/a.tmp")).toBe(true)
    expect(matcher.excludes("docs/a/b.md")).toBe(true)
    expect(matcher.excludes("docs")).toBe(false) // `docs/**` needs something after `docs/`: the directory itself stays
    expect(matcher.excludes("docsx/a")).toBe(false)
  })
  it("a leading `/` anchors nothing more than the root (patterns are root-relative anyway)", () => {
    const matcher = m(["/secret", "build/"])
    expect(matcher.excludes("secret")).toBe(true)
    expect(matcher.excludes("sub/secret")).toBe(false)
    expect(matcher.excludes("build/out.o")).toBe(true) // a pattern matching a directory covers its content
  })
  it("is case-sensitive (the library's default is not)", () => {
    expect(m(["*.LOG"]).excludes("a.log")).toBe(false)
  })
  it("the Dockerfile and .dockerignore are always kept", () => {
    const matcher = m(["*", ".dockerignore", "Dockerfile"])
    expect(matcher.excludes("Dockerfile")).toBe(false)
    expect(matcher.excludes(".dockerignore")).toBe(false)
    expect(matcher.excludes("other")).toBe(true)
    const custom = m(["ci"], "ci/Dockerfile.test")
    expect(custom.excludes("ci/Dockerfile.test")).toBe(false)
    expect(custom.excludes("ci/other")).toBe(true)
    expect(custom.mayReinclude("ci")).toBe(true)
  })
  it("an excluded directory is walked only when a `!` pattern starts with its path (literal prefix)", () => {
    const matcher = m(["vendor", "!vendor/keep", "cache", "!**/wanted"])
    expect(matcher.mayReinclude("vendor")).toBe(true)
    expect(matcher.mayReinclude("cache")).toBe(false)
  })
})
