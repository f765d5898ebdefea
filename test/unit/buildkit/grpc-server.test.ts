/**
 * The session's gRPC server without a daemon: messages split by any chunking, and a real
 * `node:http2` client on a socket pair calling a unary method, an unknown one, a failing one and a
 * bidirectional stream (what the daemon's grpc-go client does on the hijacked connection).
 */
import fc from "fast-check"
import * as http2 from "node:http2"
import * as net from "node:net"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { describe, expect, it } from "vitest"
import { GrpcCode, grpcFrame, grpcMessages, GrpcStatus, serveGrpc } from "../../../src/buildkit/grpc-server.js"
import { chunked } from "../../support/chunking.js"

const collect = async (chunks: ReadonlyArray<Uint8Array>) => {
  const out: Array<Uint8Array> = []
  for await (
    const m of grpcMessages((async function*() {
      for (const c of chunks) yield Buffer.from(c)
    })())
  ) out.push(new Uint8Array(m))
  return out
}

describe("grpcMessages", () => {
  it("any chunking of length-prefixed messages gives the same messages", async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.uint8Array({ maxLength: 40 }), { maxLength: 8 }),
        fc.array(fc.nat()),
        async (messages, cuts) => {
          const bytes = Buffer.concat(messages.map((m) => grpcFrame(m)))
          expect(await collect(chunked(bytes, cuts))).toEqual(messages)
        }
      ),
      { numRuns: 200 }
    )
  })

  it("refuses compressed messages and a stream ending inside a message", async () => {
    await expect(collect([Uint8Array.from([1, 0, 0, 0, 0])])).rejects.toBeInstanceOf(GrpcStatus)
    await expect(collect([Uint8Array.from([0, 0, 0, 0, 9, 1])])).rejects.toBeInstanceOf(GrpcStatus)
  })
})

/** A connected socket pair over a unix socket: [server side, client side]. */
const socketPair = () =>
  new Promise<[net.Socket, net.Socket]>((resolve) => {
    const path = join(tmpdir(), `ed-grpc-${process.pid}-${Math.random().toString(36).slice(2)}.sock`)
    const server = net.createServer((s) => {
      server.close()
      resolve([s, client])
    })
    let client: net.Socket
    server.listen(path, () => (client = net.connect(path)))
  })

const call = (session: http2.ClientHttp2Session, method: string, messages: ReadonlyArray<Uint8Array>) =>
  new Promise<{ messages: Array<Uint8Array>; status: string | undefined; message: string | undefined }>((resolve) => {
    const stream = session.request({
      ":method": "POST",
      ":path": method,
      "content-type": "application/grpc",
      te: "trailers"
    })
    const chunks: Array<Buffer> = []
    let trailers: http2.IncomingHttpHeaders = {}
    let headers: http2.IncomingHttpHeaders = {}
    stream.on("response", (h) => (headers = h))
    stream.on("trailers", (t) => (trailers = t))
    stream.on("data", (c: Buffer) => chunks.push(c))
    stream.on("end", async () => {
      const all = { ...headers, ...trailers }
      resolve({
        messages: await collect(chunks),
        status: all["grpc-status"] as string | undefined,
        message: all["grpc-message"] === undefined ? undefined : decodeURIComponent(String(all["grpc-message"]))
      })
    })
    for (const m of messages) stream.write(grpcFrame(m))
    stream.end()
  })

describe("serveGrpc", () => {
  it("answers unary, streaming, unknown and failing methods as gRPC does, and closes", async () => {
    const [serverSide, clientSide] = await socketPair()
    const seen: Array<string> = []
    const served = serveGrpc(serverSide, {
      "/t.T/Echo": { kind: "unary", handle: (request) => Promise.resolve(Uint8Array.from([...request].reverse())) },
      "/t.T/Fail": {
        kind: "unary",
        handle: () => Promise.reject(new GrpcStatus(GrpcCode.NOT_FOUND, "secret x not found"))
      },
      "/t.T/Crash": { kind: "unary", handle: () => Promise.reject(new Error("internal detail: s3cret")) },
      "/t.T/Chat": {
        kind: "stream",
        handle: async (c) => {
          for await (const m of c.messages) c.send(Uint8Array.from([m.length]))
        }
      }
    }, (method) => seen.push(method))
    const session = http2.connect("http://localhost", { createConnection: () => clientSide })
    expect(await call(session, "/t.T/Echo", [Uint8Array.from([1, 2, 3])])).toEqual({
      messages: [Uint8Array.from([3, 2, 1])],
      status: "0",
      message: undefined
    })
    expect(await call(session, "/t.T/Fail", [new Uint8Array(0)])).toMatchObject({
      status: String(GrpcCode.NOT_FOUND),
      message: "secret x not found"
    })
    // An unexpected failure says nothing of its cause (it could hold a secret).
    const crash = await call(session, "/t.T/Crash", [new Uint8Array(0)])
    expect(crash.status).toBe(String(GrpcCode.INTERNAL))
    expect(crash.message).not.toContain("s3cret")
    expect(await call(session, "/t.T/Nope", [])).toMatchObject({ status: String(GrpcCode.UNIMPLEMENTED) })
    expect(await call(session, "/t.T/Chat", [new Uint8Array(2), new Uint8Array(5)])).toMatchObject({
      messages: [Uint8Array.from([2]), Uint8Array.from([5])],
      status: "0"
    })
    expect(seen).toEqual(["/t.T/Echo", "/t.T/Fail", "/t.T/Crash", "/t.T/Chat"])
    await served.close()
    expect(await served.ended).toBeUndefined()
    expect(serverSide.destroyed).toBe(true)
    session.destroy()
  })

  it("reports the connection ending before close", async () => {
    const [serverSide, clientSide] = await socketPair()
    const served = serveGrpc(serverSide, {})
    clientSide.destroy()
    expect(await served.ended).toBeInstanceOf(Error) // "the daemon closed the session", EPIPE…
    await served.close()
  })
})
