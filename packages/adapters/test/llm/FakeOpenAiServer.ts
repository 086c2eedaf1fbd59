/**
 * A scriptable OpenAI-compatible HTTP server for the provider's tests: POST /v1/chat/completions
 * and /v1/embeddings on 127.0.0.1, a port chosen by the system. Each request takes the next
 * scripted reply for its route (or the default): a normal answer, a status with headers, a raw
 * body, a delay, or a hang. It counts requests, requests in flight, and connections the client
 * closed before an answer (aborted attempts).
 */
import { createServer, type IncomingMessage, type ServerResponse } from "node:http"
import type { AddressInfo } from "node:net"
import { Effect } from "effect"

export type Reply =
  | {
    readonly kind: "ok"
    readonly content?: string | null
    readonly finishReason?: string
    readonly usage?: { readonly prompt_tokens: number; readonly completion_tokens: number }
    readonly toolCalls?: ReadonlyArray<{ readonly id: string; readonly name: string; readonly arguments: string }>
    readonly delayMs?: number
  }
  | {
    readonly kind: "status"
    readonly status: number
    readonly body?: unknown
    readonly headers?: Record<string, string>
  }
  | { readonly kind: "json"; readonly body: unknown }
  | { readonly kind: "hang" }

export interface ReceivedRequest {
  readonly path: string
  readonly headers: IncomingMessage["headers"]
  readonly body: any
}

export interface FakeOpenAiServer {
  /** `http://127.0.0.1:<port>/v1` */
  readonly baseUrl: string
  readonly requests: Array<ReceivedRequest>
  readonly chatRequests: () => Array<ReceivedRequest>
  /** Queue replies for a route ("chat" or "embeddings"), used before the default. */
  readonly script: (route: "chat" | "embeddings", ...replies: ReadonlyArray<Reply>) => void
  /** The reply when nothing is queued for chat; defaults to a normal answer. */
  defaultChat: (request: ReceivedRequest) => Reply
  readonly stats: { inFlight: number; maxInFlight: number; aborted: number }
}

export const DEFAULT_USAGE = { prompt_tokens: 1000, completion_tokens: 500 }

let completionCount = 0

const completion = (request: ReceivedRequest, reply: Extract<Reply, { kind: "ok" }>) => ({
  id: `chatcmpl-${++completionCount}`,
  object: "chat.completion",
  created: 1_700_000_000,
  model: request.body?.model ?? "unknown",
  choices: [{
    index: 0,
    message: {
      role: "assistant",
      content: reply.content === undefined ? (reply.toolCalls === undefined ? "hello" : null) : reply.content,
      refusal: null,
      ...(reply.toolCalls === undefined ? {} : {
        tool_calls: reply.toolCalls.map((call) => ({
          id: call.id,
          type: "function",
          function: { name: call.name, arguments: call.arguments }
        }))
      })
    },
    finish_reason: reply.finishReason ?? "stop",
    logprobs: null
  }],
  usage: {
    ...(reply.usage ?? DEFAULT_USAGE),
    total_tokens: (reply.usage ?? DEFAULT_USAGE).prompt_tokens + (reply.usage ?? DEFAULT_USAGE).completion_tokens
  }
})

const embeddings = (request: ReceivedRequest) => {
  const inputs: Array<string> = Array.isArray(request.body?.input) ? request.body.input : [String(request.body?.input)]
  return {
    object: "list",
    model: request.body?.model,
    // Out of order on purpose: the provider must sort by index.
    data: inputs.map((input, index) => ({ object: "embedding", index, embedding: [input.length, index, 0.5] })).reverse(),
    usage: { prompt_tokens: inputs.length * 3, total_tokens: inputs.length * 3 }
  }
}

/** Starts a server for the life of the scope. */
export const start: Effect.Effect<FakeOpenAiServer, never, import("effect").Scope.Scope> = Effect.acquireRelease(
  Effect.callback<FakeOpenAiServer>((resume) => {
    const queues = { chat: [] as Array<Reply>, embeddings: [] as Array<Reply> }
    const requests: Array<ReceivedRequest> = []
    const stats = { inFlight: 0, maxInFlight: 0, aborted: 0 }
    const self: FakeOpenAiServer = {
      baseUrl: "",
      requests,
      chatRequests: () => requests.filter((request) => request.path === "/v1/chat/completions"),
      script: (route, ...replies) => void queues[route].push(...replies),
      defaultChat: () => ({ kind: "ok" }),
      stats
    }
    const server = createServer((req: IncomingMessage, res: ServerResponse) => {
      const chunks: Array<Buffer> = []
      req.on("data", (chunk: Buffer) => chunks.push(chunk))
      req.on("end", () => {
        const text = Buffer.concat(chunks).toString("utf8")
        const request: ReceivedRequest = {
          path: req.url ?? "",
          headers: req.headers,
          body: text.length > 0 ? JSON.parse(text) : undefined
        }
        requests.push(request)
        const route = request.path === "/v1/chat/completions"
          ? "chat"
          : request.path === "/v1/embeddings"
          ? "embeddings"
          : undefined
        if (req.method !== "POST" || route === undefined) {
          res.writeHead(404, { "content-type": "application/json" })
          res.end(JSON.stringify({ error: { message: "not found" } }))
          return
        }
        const reply = queues[route].shift() ?? (route === "chat" ? self.defaultChat(request) : { kind: "ok" })
        stats.inFlight += 1
        stats.maxInFlight = Math.max(stats.maxInFlight, stats.inFlight)
        let answered = false
        res.on("close", () => {
          stats.inFlight -= 1
          if (!answered) stats.aborted += 1
        })
        const send = (status: number, body: unknown, headers: Record<string, string> = {}) => {
          answered = true
          res.writeHead(status, { "content-type": "application/json", ...headers })
          res.end(JSON.stringify(body))
        }
        switch (reply.kind) {
          case "hang":
            return
          case "status":
            return send(reply.status, reply.body ?? { error: { message: `status ${reply.status}`, type: "server_error" } }, reply.headers)
          case "json":
            return send(200, reply.body)
          case "ok": {
            const body = route === "chat" ? completion(request, reply) : embeddings(request)
            if (reply.delayMs === undefined) return send(200, body)
            setTimeout(() => {
              if (!res.destroyed) send(200, body)
            }, reply.delayMs)
            return
          }
        }
      })
    })
    server.listen(0, "127.0.0.1", () => {
      const { port } = server.address() as AddressInfo
      ;(self as { baseUrl: string }).baseUrl = `http://127.0.0.1:${port}/v1`
      ;(self as unknown as { server: typeof server }).server = server
      resume(Effect.succeed(self))
    })
  }),
  (self) =>
    Effect.callback<void>((resume) => {
      const server = (self as unknown as { server: ReturnType<typeof createServer> }).server
      server.closeAllConnections()
      server.close(() => resume(Effect.void))
    })
)
