import { assert, describe, it } from "@effect/vitest"
import { Context, Effect, Layer } from "effect"
import type { SpectralEvent } from "@spectral/engine/contracts"
import {
  catchUpEvolution,
  type ClusterMember,
  evaluate,
  EvolutionCandidateRepo,
  EvolutionEventLog,
  stimulusFacts,
  taxScenarioGenerator,
  taxWorld_0_1_0,
  wordOverlap,
  WorldEvolution,
  WorldRegistry
} from "../src/index.ts"

const authority = taxWorld_0_1_0.authority
let n = 0
const cluster = (workspaceId: string, label: string, over: { frequencyPct?: number; effectSize?: number; actionable?: boolean; memberCount?: number; explanations?: Array<string>; segments?: Record<string, number> } = {}): SpectralEvent => {
  n++
  return {
    id: `evt-${n}`,
    type: "platform.failure_cluster.detected",
    version: 1,
    workspaceId,
    occurredAt: "2026-04-20T00:00:00.000Z",
    payload: {
      workspaceId,
      scanId: `scan-${n}`,
      clusterId: `c-${n}`,
      label,
      frequencyPct: over.frequencyPct ?? 18,
      effectSize: over.effectSize ?? 22,
      actionable: over.actionable ?? true,
      memberCount: over.memberCount ?? 10,
      segments: over.segments ?? { supports_parent: 10 },
      representativeExplanations: over.explanations ?? ["filed single although the mother she supports lives in her own apartment"],
      authority
    }
  }
}
const divergence = (workspaceId: string, rate: number, gap: number): SpectralEvent => {
  n++
  return {
    id: `evt-${n}`,
    type: "rubric.divergence",
    version: 1,
    workspaceId,
    occurredAt: "2026-04-20T00:00:00.000Z",
    payload: {
      workspaceId,
      scanId: `scan-${n}`,
      worldModelScore: { _tag: "Present", value: 0.8 },
      rubricScore: { _tag: "Present", value: 0.6 },
      divergence: { _tag: "Present", value: gap },
      disagreementRate: { _tag: "Present", value: rate },
      stimuliCount: 80,
      authority
    }
  }
}

/** Generated tax stimuli (independent of the profile's own seed), as members with their facts. */
const stimuli = taxScenarioGenerator.generate(taxWorld_0_1_0, { seed: 20260420, size: 600 }).map((s): ClusterMember & { fired: ReadonlyArray<string> } => {
  const facts = stimulusFacts(s.intermediate)!
  return { segment: s.segment, facts, fired: evaluate(taxWorld_0_1_0, facts).firedRules }
})
const membersWhere = (keep: (m: (typeof stimuli)[number]) => boolean, count = 10) => stimuli.filter(keep).slice(0, count)

const LIVING_APART = "misses the considered unmarried test for head of household"
const DEPENDENT_PARENT = "treats a supported parent living elsewhere as no qualifying person"

describe("WorldEvolution", () => {
  it.effect("single-workspace evidence stays an observation; a second workspace raises a candidate holding counts only", () =>
    Effect.gen(function*() {
      const evolution = yield* WorldEvolution
      const first = yield* evolution.consume(cluster("ws-a", DEPENDENT_PARENT))
      assert.strictEqual(first.decision, "observation")
      const again = yield* evolution.consume(cluster("ws-a", DEPENDENT_PARENT))
      assert.strictEqual(again.decision, "observation")
      assert.deepStrictEqual(yield* evolution.candidates(), [])
      const second = yield* evolution.consume(cluster("ws-b", DEPENDENT_PARENT, { explanations: ["secret text of workspace b"] }))
      assert.strictEqual(second.decision, "rule_revision")
      const [candidate] = yield* evolution.candidates()
      assert.strictEqual(candidate.targetRuleId, "hoh.dependent-parent-exception")
      assert.strictEqual(candidate.status, "proposed")
      assert.strictEqual(candidate.evidence.workspaces, 2)
      assert.strictEqual(candidate.evidence.events, 3)
      assert.strictEqual(candidate.evidence.members, 30)
      // platform-level: no workspace id, scan id or explanation of any workspace
      const text = JSON.stringify(candidate)
      for (const leak of ["ws-a", "ws-b", "scan-", "secret text", "mother"]) assert.notInclude(text, leak)
    }).pipe(Effect.provide(WorldEvolution.layer)))

  it.effect("the same event consumed twice counts once", () =>
    Effect.gen(function*() {
      const evolution = yield* WorldEvolution
      const event = cluster("ws-a", DEPENDENT_PARENT)
      yield* evolution.consume(event)
      assert.strictEqual((yield* evolution.consume(event)).decision, "duplicate")
      const d = yield* evolution.consume(cluster("ws-b", DEPENDENT_PARENT))
      assert.strictEqual(d.evidence!.events, 2)
      assert.strictEqual(d.evidence!.members, 20)
      const verdict: SpectralEvent = {
        id: "v-1", type: "verdict.issued", version: 1, workspaceId: "ws-a", occurredAt: "2026-04-20T00:00:00.000Z",
        payload: { workspaceId: "ws-a", scanId: "s", verdictId: "v", outcome: "go", checksPassed: 9, checksTotal: 9, changeSetId: null }
      }
      assert.strictEqual((yield* evolution.consume(verdict)).decision, "ignored")
      assert.deepStrictEqual((yield* evolution.decisions).map((x) => x.decision), ["observation", "rule_revision", "ignored"])
    }).pipe(Effect.provide(WorldEvolution.layer)))

  it.effect("words overlap a rule heavily, but the members sit outside its scope: a new rule", () =>
    Effect.gen(function*() {
      const evolution = yield* WorldEvolution
      const consideredUnmarried = taxWorld_0_1_0.ruleById.get("hoh.considered-unmarried")!
      assert.isAtLeast(wordOverlap({ ruleId: consideredUnmarried.id, title: consideredUnmarried.title, statement: consideredUnmarried.statement }, LIVING_APART), 0.5)
      // never-married people living alone: no rule's scope is concentrated on them
      const singles = membersWhere((m) => m.segment === "single_filer")
      assert.lengthOf(singles, 10)
      yield* evolution.consume(cluster("ws-a", LIVING_APART, { segments: { single_filer: 10 } }), { members: singles })
      const d = yield* evolution.consume(cluster("ws-b", LIVING_APART, { segments: { single_filer: 10 } }), { members: singles })
      assert.strictEqual(d.decision, "rule_candidate")
      const [candidate] = yield* evolution.candidates()
      assert.deepStrictEqual([candidate.kind, candidate.targetRuleId], ["rule_candidate", null])
      assert.include(candidate.rationale, "draft a new rule")
    }).pipe(Effect.provide(WorldEvolution.layer)))

  it.effect("words share nothing with a rule, but the members' facts fall inside its scope: a revision of it", () =>
    Effect.gen(function*() {
      const evolution = yield* WorldEvolution
      const label = "zephyr intake mangles tuesday batches"
      for (const rule of taxWorld_0_1_0.definition.rules) {
        assert.strictEqual(wordOverlap({ ruleId: rule.id, title: rule.title, statement: rule.statement }, label), 0, rule.id)
      }
      const inScope = membersWhere((m) => m.fired.includes("hoh.considered-unmarried"), 6)
      assert.lengthOf(inScope, 6)
      yield* evolution.consume(cluster("ws-a", label, { memberCount: 6, segments: { married_living_apart: 6 } }), { members: inScope })
      const d = yield* evolution.consume(cluster("ws-b", label, { memberCount: 6, segments: { married_living_apart: 6 } }), { members: inScope })
      assert.strictEqual(d.decision, "rule_revision")
      const [candidate] = yield* evolution.candidates()
      assert.strictEqual(candidate.targetRuleId, "hoh.considered-unmarried")
      assert.strictEqual(candidate.scopeCoverage, 1)
    }).pipe(Effect.provide(WorldEvolution.layer)))

  it.effect("the same segment, different facts: members inside vs outside a rule's scope decide differently", () =>
    Effect.gen(function*() {
      const evolution = yield* WorldEvolution
      const apartOutside = membersWhere((m) => m.segment === "married_living_apart" && !m.fired.includes("hoh.qualifying-child-lived-with"))
      yield* evolution.consume(cluster("ws-a", "a", { segments: { married_living_apart: 10 } }), { members: apartOutside })
      const outside = yield* evolution.consume(cluster("ws-b", "a", { segments: { married_living_apart: 10 } }), { members: apartOutside })
      const apartChild = membersWhere((m) => m.segment === "married_living_apart" && m.fired.includes("hoh.considered-unmarried"))
      yield* evolution.consume(cluster("ws-a", "b", { segments: { married_living_apart: 10 } }), { members: apartChild })
      const inside = yield* evolution.consume(cluster("ws-b", "b", { segments: { married_living_apart: 10 } }), { members: apartChild })
      const byId = new Map((yield* evolution.candidates()).map((c) => [c.id, c]))
      assert.notStrictEqual(byId.get(outside.candidateId!)!.targetRuleId, "hoh.considered-unmarried")
      assert.strictEqual(byId.get(inside.candidateId!)!.targetRuleId, "hoh.considered-unmarried")
    }).pipe(Effect.provide(WorldEvolution.layer)))

  it.effect("members known only by segment are placed by the rules' examples; a segment no rule's examples reach is a new rule", () =>
    Effect.gen(function*() {
      const evolution = yield* WorldEvolution
      yield* evolution.consume(cluster("ws-a", "Ignores the 2 dollar state residency credit", { segments: { state_residents: 10 } }))
      const d = yield* evolution.consume(cluster("ws-b", "ignores the 7 dollar state residency credit", { segments: { state_residents: 10 } }))
      assert.strictEqual(d.decision, "rule_candidate")
      const [candidate] = yield* evolution.candidates()
      assert.isNull(candidate.targetRuleId)
      assert.strictEqual(candidate.patternLabel, "ignores the # dollar state residency credit")
    }).pipe(Effect.provide(WorldEvolution.layer)))

  it.effect("below the threshold is noise, however many workspaces", () =>
    Effect.gen(function*() {
      const evolution = yield* WorldEvolution
      for (const ws of ["ws-a", "ws-b", "ws-c"]) {
        const low = yield* evolution.consume(cluster(ws, "rare formatting slip", { frequencyPct: 9.9, effectSize: 40 }))
        assert.strictEqual(low.decision, "noise")
      }
      for (const ws of ["ws-a", "ws-b"]) {
        const weak = yield* evolution.consume(cluster(ws, "small effect", { frequencyPct: 30, effectSize: 14.9 }))
        assert.strictEqual(weak.decision, "noise")
        const inert = yield* evolution.consume(cluster(ws, "not actionable", { actionable: false }))
        assert.strictEqual(inert.decision, "noise")
      }
      assert.deepStrictEqual(yield* evolution.candidates(), [])
    }).pipe(Effect.provide(WorldEvolution.layer)))

  it.effect("the threshold is computed over the stream, not per event", () =>
    Effect.gen(function*() {
      const evolution = yield* WorldEvolution
      const big = yield* evolution.consume(cluster("ws-a", DEPENDENT_PARENT, { frequencyPct: 40, effectSize: 30, memberCount: 10 }))
      assert.strictEqual(big.decision, "observation")
      const diluted = yield* evolution.consume(cluster("ws-b", DEPENDENT_PARENT, { frequencyPct: 2, effectSize: 30, memberCount: 90 }))
      assert.strictEqual(diluted.decision, "noise")
      assert.closeTo(diluted.evidence!.frequencyPct, 5.8, 1e-9)
      assert.deepStrictEqual(yield* evolution.candidates(), [])
      const lifted = yield* evolution.consume(cluster("ws-c", DEPENDENT_PARENT, { frequencyPct: 30, effectSize: 30, memberCount: 200 }))
      assert.strictEqual(lifted.decision, "rule_revision")
    }).pipe(Effect.provide(WorldEvolution.layer)))

  it.effect("rubric divergence: one workspace is an observation, two drive a revision candidate", () =>
    Effect.gen(function*() {
      const evolution = yield* WorldEvolution
      assert.strictEqual((yield* evolution.consume(divergence("ws-a", 0.25, 0.2))).decision, "observation")
      assert.strictEqual((yield* evolution.consume(divergence("ws-a", 0.3, 0.2))).decision, "observation")
      assert.strictEqual((yield* evolution.consume(divergence("ws-b", 0.2, 0.18))).decision, "rule_revision")
      const candidates = yield* evolution.candidates()
      assert.deepStrictEqual(candidates.map((c) => [c.kind, c.source]), [["rule_revision", "rubric_divergence"]])
    }).pipe(Effect.provide(WorldEvolution.layer)))

  it.effect("nothing is published without an explicit call; publish and dismiss record who and when, and refuse a second change", () =>
    Effect.gen(function*() {
      const evolution = yield* WorldEvolution
      const registry = yield* WorldRegistry
      yield* evolution.consume(cluster("ws-a", DEPENDENT_PARENT))
      yield* evolution.consume(cluster("ws-b", DEPENDENT_PARENT))
      yield* evolution.consume(divergence("ws-a", 0.25, 0.2))
      yield* evolution.consume(divergence("ws-b", 0.25, 0.2))
      const tax = (yield* registry.list).find((w) => w.worldModelId === "us-federal-individual-tax")!
      assert.deepStrictEqual(tax.versions, ["0.1.0", "0.2.0"])
      const [clusterCandidate, divergenceCandidate] = yield* evolution.candidates()
      const next = { ...JSON.parse(JSON.stringify(taxWorld_0_1_0.definition)), version: "0.3.0" }
      next.rules.find((r: { id: string }) => r.id === "hoh.dependent-parent-exception").statement += " (revised)"
      const published = yield* evolution.publishCandidate(clusterCandidate.id, next, { actor: "maria" })
      assert.strictEqual(published.authority.worldModelVersion, "0.3.0")
      assert.strictEqual((yield* registry.current("us-federal-individual-tax")).authority.worldModelVersion, "0.1.0")
      const dismissed = yield* evolution.dismissCandidate(divergenceCandidate.id, { actor: "li", note: "judge was recalibrated" })
      assert.strictEqual(dismissed.status, "dismissed")
      const after = yield* evolution.candidates({ status: "published" })
      assert.deepStrictEqual(after.map((c) => [c.status, c.publishedVersion, c.history.map((h) => `${h.status}:${h.actor}`)]), [["published", "0.3.0", ["proposed:world-evolution", "published:maria"]]])
      // more evidence later keeps the decision
      yield* evolution.consume(cluster("ws-c", DEPENDENT_PARENT))
      assert.strictEqual((yield* evolution.candidates({ status: "published" }))[0].evidence.workspaces, 3)
      const refused = yield* Effect.flip(evolution.dismissCandidate(clusterCandidate.id))
      assert.strictEqual(refused._tag, "CandidateTransitionRefused")
      assert.include(refused.message, "is published")
      const republish = yield* Effect.flip(evolution.publishCandidate(divergenceCandidate.id, next))
      assert.strictEqual(republish._tag, "CandidateTransitionRefused")
    }).pipe(Effect.provide(WorldEvolution.layer)))

  it.effect("unknown candidate and unknown world are typed errors naming them", () =>
    Effect.gen(function*() {
      const evolution = yield* WorldEvolution
      const missing = yield* Effect.flip(evolution.dismissCandidate("no-such/candidate"))
      assert.strictEqual(missing._tag, "CandidateNotFound")
      assert.include(missing.message, "no-such/candidate")
      const world = yield* Effect.flip(evolution.candidates({ worldModelId: "atlantis-tax" }))
      assert.strictEqual(world._tag, "EvolutionWorldUnknown")
      assert.include(world.message, "atlantis-tax")
      assert.include(world.message, "us-federal-individual-tax")
    }).pipe(Effect.provide(WorldEvolution.layer)))

  it.effect("catch-up consumes stored events once, remembers where it stopped, and names a malformed one without losing it", () =>
    Effect.gen(function*() {
      const events = [cluster("ws-a", DEPENDENT_PARENT), cluster("ws-b", DEPENDENT_PARENT), divergence("ws-a", 0.25, 0.2)]
      const documents = [
        ...events.map((e) => ({ workspaceId: e.workspaceId, id: e.id, document: e })),
        { workspaceId: "ws-b", id: "broken-1", document: { id: "broken-1", type: "platform.failure_cluster.detected", version: 1, workspaceId: "ws-b", payload: { label: 7 } } }
      ]
      const repo = yield* Layer.build(EvolutionCandidateRepo.layerMemory)
      const run = (docs: typeof documents) =>
        catchUpEvolution().pipe(
          Effect.provide(WorldEvolution.layerNoDeps().pipe(Layer.provideMerge(Layer.succeedContext(repo)), Layer.provideMerge(WorldRegistry.layer))),
          Effect.provide(Layer.succeed(EvolutionEventLog, EvolutionEventLog.fromDocuments(docs)))
        )
      const first = yield* run(documents)
      assert.deepStrictEqual([first.workspaces, first.read, first.consumed, first.duplicates], [2, 4, 3, 0])
      assert.deepStrictEqual(first.malformed.map((m) => [m.workspaceId, m.eventId]), [["ws-b", "broken-1"]])
      const again = yield* run(documents)
      assert.deepStrictEqual([again.read, again.consumed], [0, 0])
      // a later event is read; the earlier ones are not read again
      const later = divergence("ws-b", 0.3, 0.2)
      const third = yield* run([...documents, { workspaceId: later.workspaceId, id: later.id, document: later }])
      assert.deepStrictEqual([third.read, third.consumed], [1, 1])
      const candidates = yield* Context.get(repo, EvolutionCandidateRepo).candidates()
      assert.deepStrictEqual(candidates.map((c) => [c.source, c.evidence.workspaces, c.evidence.events]), [["failure_cluster", 2, 2], ["rubric_divergence", 2, 2]])
    }))
})
