import { describe, expect, it } from "@effect/vitest"
import { Effect } from "effect"
import { TestClock } from "effect/testing"
import type { Trace, WorkspaceAgent } from "../../src/contracts/index.ts"
import {
  buildSampleSet,
  curateTraces,
  curationReadiness,
  deriveSamples,
  detectSystemicSignals,
  inferAgents,
  inferPromptTemplate,
  observedPromptsOf,
  placeLegalHold,
  releaseLegalHold,
  runRetentionSweep,
  segmentCoverage,
  templateFromDraft,
  trackIngested
} from "../../src/traces/index.ts"
import { MemoryStorage, RetentionRepo, SampleRepo, ScanRepo, ScanTraceRepo, TraceRepo } from "../../src/ports/index.ts"

const W = "ws-1"
let counter = 0
const span = (fields: Partial<Trace> & { traceId: string; spanId: string }): Trace => ({
  id: `row-${++counter}`,
  workspaceId: W,
  name: "span",
  startTime: "2026-01-01T00:00:00.000Z",
  endTime: "2026-01-01T00:00:01.000Z",
  attributes: {},
  ...fields
})

const chat = (traceId: string, spanId: string, parent: string | undefined, attrs: Record<string, unknown>, extra: Partial<Trace> = {}) =>
  span({
    traceId,
    spanId,
    ...(parent === undefined ? {} : { parentSpanId: parent }),
    name: "chat",
    attributes: { "gen_ai.operation.name": "chat", "gen_ai.provider.name": "openai", "gen_ai.request.model": "gpt-4o", ...attrs },
    ...extra
  })

const agentSpan = (traceId: string, spanId: string, parent: string | undefined, name: string, extra: Partial<Trace> = {}) =>
  span({
    traceId,
    spanId,
    ...(parent === undefined ? {} : { parentSpanId: parent }),
    name: `invoke_agent ${name}`,
    agentName: name,
    attributes: { "gen_ai.operation.name": "invoke_agent", "gen_ai.agent.name": name },
    ...extra
  })

const declared = (name: string): WorkspaceAgent => ({
  id: `agent-${name}`,
  name,
  role: name,
  dependsOn: [],
  template: {
    basePrompt: "declared base",
    contextSelection: { mode: "full", maxChars: 1000, truncation: "head" },
    chainOfThought: "none",
    fewShotExamples: [],
    upstreamInjection: { mode: "none", label: "" },
    guidance: [],
    outputFields: []
  },
  hyperparameters: { provider: "openai", model: "gpt-4o", temperature: 0, maxTokens: 100 }
})

describe("agent inference", () => {
  it("attributes model calls to the enclosing agent, matches declared agents, proposes the rest, and infers dependencies", () => {
    const intakeOut = "{\"filingStatus\":\"single\",\"dependents\":2,\"income\":52000}"
    const traces: Array<Trace> = []
    for (let t = 0; t < 4; t++) {
      const tid = `t${t}`
      traces.push(agentSpan(tid, "a", undefined, "Advisor", { startTime: "2026-01-01T00:00:00.000Z", endTime: "2026-01-01T00:00:10.000Z" }))
      traces.push(agentSpan(tid, "b", "a", "intake", { startTime: "2026-01-01T00:00:00.000Z", endTime: "2026-01-01T00:00:02.000Z" }))
      traces.push(chat(tid, "c", "b", { "gen_ai.request.temperature": 0.2 + t * 0.1, "gen_ai.request.max_tokens": 500 }, {
        startTime: "2026-01-01T00:00:00.500Z",
        endTime: "2026-01-01T00:00:01.500Z",
        output: intakeOut
      }))
      // The reviewer is not enclosed by the intake agent; it only reads its output.
      traces.push(agentSpan(tid, "d", undefined, "reviewer", { startTime: "2026-01-01T00:00:11.000Z", endTime: "2026-01-01T00:00:12.000Z" }))
      traces.push(chat(tid, "e", "d", { "gen_ai.request.temperature": 0 }, {
        startTime: "2026-01-01T00:00:11.000Z",
        input: JSON.stringify([{ role: "system", content: "Review." }, { role: "user", content: `Intake: ${intakeOut}` }])
      }))
    }
    const result = inferAgents(traces, { declared: [declared("advisor"), declared("intake"), declared("payroll")] })
    const byName = new Map(result.agents.map((a) => [a.name, a]))
    expect([...byName.keys()]).toEqual(["advisor", "intake", "reviewer"])
    expect(byName.get("intake")!.status).toBe("declared")
    expect(byName.get("reviewer")!.status).toBe("proposed")
    expect(result.unobserved).toEqual(["payroll"])
    expect(byName.get("advisor")!.dependsOn).toEqual(["intake"])
    expect(byName.get("reviewer")!.dependsOn).toEqual(["intake"])
    expect(byName.get("reviewer")!.evidence).toEqual([{ on: "intake", kind: "output_reuse", count: 4 }])
    const hp = byName.get("intake")!.hyperparameters
    expect(hp.model?.baseline).toBe("gpt-4o")
    expect(hp.temperature?.min).toBeCloseTo(0.2)
    expect(hp.temperature?.max).toBeCloseTo(0.5)
    expect(hp.temperature?.baseline).toBeCloseTo(0.35)
    expect(hp.maxTokens?.baseline).toBe(500)
    expect(hp.topP).toBeUndefined()
    expect(hp.modelCalls).toBe(4)
  })
})

describe("prompt-template inference", () => {
  it("separates stable base prompt, few-shot pairs, chain of thought, varying context and upstream injection", () => {
    const system = [
      "You are a tax intake assistant.",
      "Extract the filing facts from the client's message.",
      "Example 1:",
      "Input: I am single with no kids",
      "Output: {\"filingStatus\":\"single\",\"dependents\":0}",
      "Example 2:",
      "Input: Married, two children",
      "Output: {\"filingStatus\":\"married_joint\",\"dependents\":2}",
      "Think step by step before answering."
    ].join("\n")
    const prompts = Array.from({ length: 8 }, (_, i) => {
      const upstream = `{"score":${i},"flag":"review-${i}"}`
      return {
        system,
        user: `Client message number ${i}: my income was ${40_000 + i * 1000} dollars.\nRouter result: ${upstream}`,
        output: `{"filingStatus":"single","dependents":${i}}`,
        upstream: [{ agent: "router", output: upstream }]
      }
    })
    const draft = inferPromptTemplate("intake", prompts)
    expect(draft.basePrompt.value).toBe(
      "You are a tax intake assistant.\nExtract the filing facts from the client's message.\nThink step by step before answering."
    )
    expect(draft.basePrompt.confidence).toBeGreaterThan(0.9)
    expect(draft.fewShotExamples.value).toEqual([
      { input: "I am single with no kids", output: "{\"filingStatus\":\"single\",\"dependents\":0}" },
      { input: "Married, two children", output: "{\"filingStatus\":\"married_joint\",\"dependents\":2}" }
    ])
    expect(draft.chainOfThought.value).toBe("full")
    expect(draft.upstreamInjection.value).toEqual({ mode: "json", label: "Router result" })
    expect(draft.upstreamInjection.from).toEqual(["router"])
    expect(draft.contextSelection.confidence).toBe(1)
    expect(draft.outputFields.value).toEqual(["dependents", "filingStatus"])
    const template = templateFromDraft(draft)
    expect(template.chainOfThought).toBe("full")
    expect(template.fewShotExamples).toHaveLength(2)
  })

  it("falls back to the declared template for parts it is unsure of (one observation)", () => {
    const draft = inferPromptTemplate("solo", [{ system: "", user: "hello there" }])
    expect(draft.basePrompt.confidence).toBe(0)
    const template = templateFromDraft(draft, { declared: declared("solo").template })
    expect(template.basePrompt).toBe("declared base")
  })

  it("reads conversation starts of an agent from stored spans", () => {
    const traces = [0, 1, 2].map((i) =>
      chat(`p${i}`, "s", undefined, { "gen_ai.agent.name": "helper" }, {
        agentName: "helper",
        input: JSON.stringify([{ role: "system", content: "Be brief." }, { role: "user", content: `question ${i}` }]),
        output: "answer"
      })
    )
    const inference = inferAgents(traces)
    const prompts = observedPromptsOf(traces, inference, "helper")
    expect(prompts.map((p) => p.user)).toEqual(["question 0", "question 1", "question 2"])
    expect(inferPromptTemplate("helper", prompts).basePrompt.value).toBe("Be brief.")
  })
})

describe("curation", () => {
  const secret = "SECRET-CUSTOMER-TEXT-42"
  const traces = ["x1", "x2", "x3", "x4", "x5"].map((tid, i) =>
    chat(tid, "root", undefined, { "gen_ai.agent.name": i < 3 ? "alpha" : "beta" }, {
      agentName: i < 3 ? "alpha" : "beta",
      input: JSON.stringify([{ role: "user", content: secret }]),
      output: secret
    })
  )

  it("derives one sample per trace without copying trace content, with stratification", () => {
    const samples = deriveSamples(traces, { workspaceId: W, createdAt: "2026-01-02T00:00:00.000Z" })
    expect(samples).toHaveLength(5)
    expect(JSON.stringify(samples)).not.toContain(secret)
    expect(samples[0]!.traceRef).toEqual({ _tag: "Live", traceId: "x1" })
    expect(samples[0]!.stratification.segment).toBe("alpha")
    expect(samples[0]!.structuralMetadata.modelCalls).toBe("1")
  })

  it("flags segments below the minimum, splits sample sets per segment, and reports readiness", () => {
    const samples = deriveSamples(traces, { workspaceId: W, createdAt: "2026-01-02T00:00:00.000Z" })
    const coverage = segmentCoverage(samples, 3)
    expect(coverage.map((c) => [c.segment, c.active, c.needsRefresh])).toEqual([["alpha", 3, false], ["beta", 2, true]])
    const set = buildSampleSet(samples, { id: "ss-1", workspaceId: W, version: 1, createdAt: "2026-01-02T00:00:00.000Z", seed: 7 })
    expect(set.holdout).toHaveLength(2) // one per segment
    expect(new Set([...set.working, ...set.holdout]).size).toBe(5)
    const again = buildSampleSet(samples, { id: "ss-1", workspaceId: W, version: 1, createdAt: "x", seed: 7 })
    expect(again.holdout).toEqual(set.holdout)
    expect(curationReadiness(samples, false).mode).toBe("conformance_only")
    expect(curationReadiness(samples, true).mode).toBe("blended")
    expect(curationReadiness([], true).mode).toBe("synthetic_only")
  })
})

describe("retention", () => {
  const secret = "PURGE-ME-7f3a"

  it.effect("sweeps expired traces after the 90-day clock that derivation restarts, tombstones samples, audits, respects legal holds", () =>
    Effect.gen(function*() {
      const storage = yield* MemoryStorage.make
      const provide = <A, E, R>(effect: Effect.Effect<A, E, R>) =>
        effect.pipe(
          Effect.provideService(TraceRepo, storage.trace),
          Effect.provideService(SampleRepo, storage.sample),
          Effect.provideService(RetentionRepo, storage.retention),
          Effect.provideService(ScanRepo, storage.scan),
          Effect.provideService(ScanTraceRepo, storage.scanTrace)
        )
      const rows = ["old", "held"].map((tid) =>
        chat(tid, "s1", undefined, { "gen_ai.agent.name": "alpha", "customer.note": secret }, {
          agentName: "alpha",
          input: JSON.stringify([{ role: "user", content: secret }]),
          output: secret
        })
      )
      yield* storage.trace.append(W, rows)
      yield* provide(trackIngested(W, ["old", "held"]))
      // Ten days pass before derivation, which restarts the clock (from ingest) at day 10.
      yield* TestClock.adjust("10 days")
      const derived = yield* provide(curateTraces(W))
      expect(derived).toHaveLength(2)
      yield* provide(placeLegalHold({ id: "hold-1", workspaceId: W, traceIds: ["held"], reason: "litigation" }, "admin"))
      // 89 days after derivation: nothing expires.
      yield* TestClock.adjust("89 days")
      const early = yield* provide(runRetentionSweep(W))
      expect(early.purgedTraces).toBe(0)
      expect(JSON.stringify(storage.contents())).toContain(secret)
      yield* TestClock.adjust("2 days")
      const report = yield* provide(runRetentionSweep(W))
      expect(report.purgedTraces).toBe(1)
      expect(report.held).toEqual([{ traceId: "held", holdId: "hold-1" }])
      const samples = yield* storage.sample.samples(W)
      const old = samples.find((s) => s.traceRef.traceId === "old")!
      expect(old.state).toBe("historical")
      expect(old.traceRef._tag).toBe("Tombstone")
      expect(old.structuralMetadata.rootAgent).toBe("alpha")
      const records = new Map((yield* storage.retention.records(W)).map((r) => [r.traceId, r.state]))
      expect(records.get("old")).toBe("TOMBSTONED")
      expect(records.get("held")).toBe("ORPHANED")
      const events = yield* storage.retention.events(W)
      expect(events.filter((e) => e.subject === "old").map((e) => `${e.from}->${e.to}`)).toEqual([
        "null->ACTIVE",
        "ACTIVE->REFERENCED",
        "REFERENCED->ORPHANED",
        "ORPHANED->TOMBSTONED"
      ])
      expect(events.some((e) => e.subjectKind === "sample" && e.to === "historical")).toBe(true)
      // The held trace's content is still there; releasing the hold lets the next sweep purge it.
      expect(JSON.stringify(storage.contents())).toContain(secret)
      yield* provide(releaseLegalHold(W, "hold-1", "admin"))
      const final = yield* provide(runRetentionSweep(W))
      expect(final.purgedTraces).toBe(1)
      expect(JSON.stringify(storage.contents())).not.toContain(secret)
      // A second sweep changes nothing and records nothing new.
      const before = (yield* storage.retention.events(W)).length
      const idle = yield* provide(runRetentionSweep(W))
      expect(idle.transitions).toBe(0)
      expect((yield* storage.retention.events(W)).length).toBe(before)
    }))
})

describe("systemic signals", () => {
  it("finds 429 bunching across agents, correlated failures and a latency cliff", () => {
    const observations = [
      ...["a", "b", "c", "a"].map((agent, i) => ({ agent, stimulusId: `r${i}`, atMs: 100_000 + i * 5_000, latencyMs: 100, failed: true, httpStatus: 429 })),
      { agent: "a", stimulusId: "lone", atMs: 900_000, latencyMs: 100, failed: true, httpStatus: 429 },
      ...["s1", "s2", "s3"].flatMap((s) => [
        { agent: "intake", stimulusId: s, atMs: 0, latencyMs: 100, failed: true },
        { agent: "advisor", stimulusId: s, atMs: 0, latencyMs: 100, failed: true }
      ]),
      ...Array.from({ length: 20 }, (_, i) => [
        { agent: "intake", stimulusId: `ok${i}`, atMs: 0, latencyMs: 100, failed: false },
        { agent: "advisor", stimulusId: `ok${i}`, atMs: 0, latencyMs: 100, failed: false }
      ]).flat(),
      ...Array.from({ length: 12 }, (_, i) => ({ agent: "judge", stimulusId: `j${i}`, atMs: i * 1000, latencyMs: i < 6 ? 200 + i : 1500 + i, failed: false }))
    ]
    const signals = detectSystemicSignals(observations)
    const kinds = signals.map((s) => s.kind)
    expect(kinds).toEqual(["rate_limit_bunching", "correlated_failure", "latency_cliff"])
    const bunch = signals[0]!
    expect(bunch.kind === "rate_limit_bunching" && bunch.count).toBe(4)
    expect(bunch.agents).toEqual(["a", "b", "c"])
    const correlated = signals[1]!
    expect(correlated.kind === "correlated_failure" && correlated.stimuli).toEqual(["s1", "s2", "s3"])
    const cliff = signals[2]!
    expect(cliff.kind === "latency_cliff" && cliff.atMs).toBe(6000)
    expect(cliff.agents).toEqual(["judge"])
  })

  it("reports nothing on healthy independent traffic", () => {
    const observations = Array.from({ length: 40 }, (_, i) => ({
      agent: i % 2 === 0 ? "a" : "b",
      stimulusId: `s${i >> 1}`,
      atMs: i * 1000,
      latencyMs: 100 + (i % 7) * 10,
      failed: i === 3 || i === 30
    }))
    expect(detectSystemicSignals(observations)).toEqual([])
  })
})
