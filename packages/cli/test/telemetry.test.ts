/**
 * The engine's own telemetry as a user turns it on: `spectral scan` with
 * `OTEL_EXPORTER_OTLP_ENDPOINT` set exports the scan's spans over OTLP/HTTP. Sent to the engine's
 * own receiver (loopback, memory storage, an ingest key), the spans of a synthetic workspace let
 * agent inference recover the team's agents and their dependencies. A customer-data (`platform`)
 * workspace's exported spans, captured byte for byte, hold none of its stimulus text while still
 * carrying the GenAI attributes. A content class that does not exist stops the scan before anything
 * is stored, naming it (exit code 2, as for any bad configuration value).
 */
import { assert, describe, it } from "@effect/vitest"
import { Context, Effect, Layer } from "effect"
import { HttpServer } from "effect/http"
import { existsSync } from "node:fs"
import { createServer, type IncomingHttpHeaders } from "node:http"
import { join } from "node:path"
import { issueIngestKey, OtlpIngest, OtlpReceiver, Storage } from "@spectral/adapters"
import { IngestKeyRepo, inferAgents, MemoryStorage, RetentionRepo, ScanTraceRepo, ScanWorkflow, TraceRepo } from "@spectral/engine"
import type { WorkspaceAgent } from "@spectral/engine/contracts"
import { runScan, scratch, smallWorkspace } from "./ScanProcesses.ts"

/** The engine's OTLP receiver on a loopback port over memory storage, with a key for `workspaceId`. */
const startReceiver = (workspaceId: string) =>
  Effect.gen(function*() {
    const storage = yield* MemoryStorage.make
    const storageLayer = Layer.succeedContext(
      Context.make(TraceRepo, storage.trace).pipe(Context.add(RetentionRepo, storage.retention), Context.add(IngestKeyRepo, storage.ingestKey))
    )
    const built = yield* Layer.build(OtlpReceiver.layer({ port: 0, host: "127.0.0.1" }).pipe(Layer.provide(Layer.provideMerge(OtlpIngest.layer(), storageLayer))))
    const address = Context.get(built, HttpServer.HttpServer).address
    const key = yield* Effect.provideService(issueIngestKey(workspaceId, "telemetry test"), IngestKeyRepo, storage.ingestKey)
    return { endpoint: `http://127.0.0.1:${"port" in address ? address.port : 0}`, key, traces: storage.trace.list(workspaceId) }
  })

/** A plain OTLP/HTTP endpoint on loopback that keeps every request body as it arrived. */
const startCapture = Effect.acquireRelease(
  Effect.callback<{ readonly endpoint: string; readonly bodies: Array<{ readonly headers: IncomingHttpHeaders; readonly body: string }>; readonly close: () => void }>((resume) => {
    const bodies: Array<{ headers: IncomingHttpHeaders; body: string }> = []
    const server = createServer((request, response) => {
      const chunks: Array<Buffer> = []
      request.on("data", (chunk: Buffer) => chunks.push(chunk))
      request.on("end", () => {
        bodies.push({ headers: request.headers, body: Buffer.concat(chunks).toString("utf8") })
        response.writeHead(200, { "content-type": "application/json" }).end("{}")
      })
    })
    server.listen(0, "127.0.0.1", () => {
      const address = server.address()
      const port = typeof address === "object" && address !== null ? address.port : 0
      resume(Effect.succeed({ endpoint: `http://127.0.0.1:${port}`, bodies, close: () => void server.close() }))
    })
  }),
  (capture) => Effect.sync(capture.close)
)

interface OtlpSpan {
  readonly name: string
  readonly attributes?: ReadonlyArray<{ readonly key: string; readonly value: Record<string, unknown> }>
}

const spansOf = (bodies: ReadonlyArray<{ readonly body: string }>): Array<OtlpSpan> =>
  bodies.flatMap(({ body }) =>
    (JSON.parse(body) as { resourceSpans: Array<{ scopeSpans: Array<{ spans: Array<OtlpSpan> }> }> }).resourceSpans
      .flatMap((r) => r.scopeSpans.flatMap((s) => s.spans))
  )

const attribute = (span: OtlpSpan, key: string) => span.attributes?.find((a) => a.key === key)?.value

/** The stimulus texts of a finished scan, from the store the `spectral scan` process left in `dir`. */
const stimuliOf = (dir: string, workspaceId: string, scanId: string) =>
  Effect.gen(function*() {
    const repo = yield* ScanTraceRepo
    return (yield* repo.traces(workspaceId, scanId)).flatMap((t) => (t.input === undefined ? [] : [t.input]))
  }).pipe(Effect.provide(Storage.layerPglite({ dataDir: join(dir, "db") })))

/** A stimulus's sentences long enough not to appear by chance. */
const sentencesOf = (stimulus: string) => stimulus.split(/(?<=[.!?])\s+/).filter((sentence) => sentence.length >= 20)

const scanEnv = (dir: string, endpoint: string, extra: Record<string, string | undefined>) => ({
  SPECTRAL_DATA_DIR: join(dir, "db"),
  SPECTRAL_LLM: "simulated",
  SPECTRAL_DATABASE_URL: undefined,
  SPECTRAL_DATABASE_OWNER_URL: undefined,
  OTEL_EXPORTER_OTLP_ENDPOINT: endpoint,
  OTEL_EXPORTER_OTLP_HEADERS: undefined,
  SPECTRAL_TELEMETRY_CONTENT_CLASS: undefined,
  SPECTRAL_TELEMETRY_WORKSPACE_CONTENT_CLASSES: undefined,
  ...extra
})

describe("the engine's own telemetry (spectral scan with OTEL_EXPORTER_OTLP_ENDPOINT)", () => {
  it.effect("a synthetic workspace's scan spans, sent to the engine's receiver, recover the team's agents and dependencies", () =>
    Effect.gen(function*() {
      const workspace = smallWorkspace("otel-synthetic")
      const receiver = yield* startReceiver(workspace.id)
      const { dir, file } = yield* scratch(workspace)
      const run = yield* runScan(file, scanEnv(dir, receiver.endpoint, {
        OTEL_EXPORTER_OTLP_HEADERS: `authorization=Bearer%20${receiver.key}`,
        SPECTRAL_TELEMETRY_WORKSPACE_CONTENT_CLASSES: `${workspace.id}=synthetic`
      }), ["--seed", "5"])
      assert.strictEqual(run.code, 0, run.stderr)
      const traces = yield* receiver.traces
      // One trace for the scan: its phases and model calls under one root (`spectral.scan`, the
      // scan's workflow execution, in the trace derived from the scan's id).
      const scanRoot = traces.find((t) => t.name === "spectral.scan")
      assert.isDefined(scanRoot, "a root span for the scan")
      const { scanId } = JSON.parse(run.stdout) as { readonly scanId: string }
      assert.strictEqual(scanRoot!.traceId, ScanWorkflow.scanTraceParent(scanId).traceId, "in the trace derived from the scan's id")
      const inScan = traces.filter((t) => t.traceId === scanRoot!.traceId)
      for (const phase of ["Preflight", "Observe", "Diagnose", "Evaluate", "Optimize", "Safety", "Verdict"]) {
        assert.isTrue(inScan.some((t) => t.name === `${phase}.run`), `a ${phase} span in the scan's trace`)
      }
      const calls = inScan.filter((t) => t.attributes["gen_ai.operation.name"] === "chat")
      assert.isAbove(calls.length, 0)
      const spend = JSON.parse(run.stdout) as { spend: { calls: number } }
      assert.strictEqual(calls.length, spend.spend.calls, "one chat span per model call")
      for (const call of calls) {
        assert.isString(call.attributes["gen_ai.request.model"])
        assert.isNumber(call.attributes["gen_ai.usage.input_tokens"])
        assert.isNumber(call.attributes["gen_ai.usage.output_tokens"])
        assert.deepStrictEqual(call.attributes["gen_ai.response.finish_reasons"], ["stop"])
      }
      const declared = workspace.agents as ReadonlyArray<WorkspaceAgent>
      const inference = inferAgents(traces, { declared })
      assert.deepStrictEqual(inference.unobserved, [], "every declared agent is found in the spans")
      assert.deepStrictEqual(
        inference.agents.filter((a) => a.status === "proposed").map((a) => a.name),
        ["spectral"],
        "the only other agent is the engine itself (judge, rewrites), named by its service"
      )
      for (const agent of declared) {
        const found = inference.agents.find((a) => a.name === agent.name)
        assert.isDefined(found, agent.name)
        assert.strictEqual(found!.status, "declared")
        assert.strictEqual(found!.declaredId, agent.id)
        const expected = agent.dependsOn.map((id) => declared.find((d) => d.id === id)!.name).sort()
        // Among the team (the engine's own judge and rewrite calls are one more, proposed, agent).
        const onTeam = found!.dependsOn.filter((name) => declared.some((d) => d.name === name))
        assert.deepStrictEqual(onTeam, expected, `${agent.name} depends on ${expected.join(", ") || "nothing"}`)
        assert.strictEqual(found!.hyperparameters.model?.baseline, agent.hyperparameters.model)
      }
      // Content was allowed here, so the search the customer-data test relies on finds the stimuli.
      const stimuli = yield* stimuliOf(dir, workspace.id, (JSON.parse(run.stdout) as { scanId: string }).scanId)
      const stored = JSON.stringify(traces)
      assert.isTrue(stimuli.some((stimulus) => sentencesOf(stimulus).some((sentence) => stored.includes(JSON.stringify(sentence).slice(1, -1)))))
    }), { timeout: 180_000 })

  it.effect("a customer-data (platform) workspace's exported spans hold none of its stimulus text", () =>
    Effect.gen(function*() {
      const workspace = smallWorkspace("otel-customer")
      const capture = yield* startCapture
      const { dir, file } = yield* scratch(workspace)
      // The default class is platform: nothing to set for a customer's workspace.
      const run = yield* runScan(file, scanEnv(dir, capture.endpoint, {}), ["--seed", "5"])
      assert.strictEqual(run.code, 0, run.stderr)
      const { scanId } = JSON.parse(run.stdout) as { scanId: string }
      const stimuli = yield* stimuliOf(dir, workspace.id, scanId)
      assert.isAbove(stimuli.length, 0)
      const spans = spansOf(capture.bodies)
      const calls = spans.filter((s) => attribute(s, "gen_ai.operation.name")?.stringValue === "chat")
      assert.isAbove(calls.length, 0, "the model calls were exported")
      for (const call of calls) {
        assert.isDefined(attribute(call, "gen_ai.usage.input_tokens"))
        assert.isDefined(attribute(call, "gen_ai.request.model"))
      }
      const agentIds = new Set(calls.flatMap((s) => { const id = attribute(s, "gen_ai.agent.id")?.stringValue; return typeof id === "string" ? [id] : [] }))
      assert.deepStrictEqual([...agentIds].sort(), (workspace.agents as ReadonlyArray<WorkspaceAgent>).map((a) => a.id).sort())
      const exported = capture.bodies.map((b) => b.body).join("\n")
      for (const stimulus of stimuli) {
        // Every sentence of every stimulus, as the JSON exporter would write it.
        for (const sentence of sentencesOf(stimulus)) {
          const escaped = JSON.stringify(sentence).slice(1, -1)
          // As an attribute value, or inside a JSON-valued attribute (escaped twice).
          for (const form of [escaped, JSON.stringify(escaped).slice(1, -1)]) {
            assert.notInclude(exported, form, `stimulus text exported: ${sentence}`)
          }
        }
      }
      for (const key of ["gen_ai.input.messages", "gen_ai.output.messages", "gen_ai.system_instructions"]) {
        assert.isFalse(spans.some((s) => attribute(s, key) !== undefined), `${key} exported`)
      }
    }), { timeout: 180_000 })

  it.effect("a content class that does not exist stops the scan before anything is stored, naming it", () =>
    Effect.gen(function*() {
      const workspace = smallWorkspace("otel-bad-class")
      const capture = yield* startCapture
      const { dir, file } = yield* scratch(workspace)
      const run = yield* runScan(file, scanEnv(dir, capture.endpoint, { SPECTRAL_TELEMETRY_WORKSPACE_CONTENT_CLASSES: `${workspace.id}=public` }))
      assert.strictEqual(run.code, 2, "exit code of a bad configuration value")
      const line = (run.stdout + run.stderr).split("\n").find((l) => l.startsWith("{\"error\""))
      assert.isDefined(line, run.stdout + run.stderr)
      const { error } = JSON.parse(line!) as { error: string }
      assert.include(error, "unknown telemetry content class \"public\"")
      assert.include(error, workspace.id)
      assert.isFalse(existsSync(join(dir, "db")), "nothing stored")
      assert.strictEqual(capture.bodies.length, 0)
    }))
})
