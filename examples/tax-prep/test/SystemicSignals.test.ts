/**
 * Systemic signals beside the clusters: a provider that rate-limits a burst of calls across both
 * agents shows as rate-limit bunching in the diagnosis and in the change set's reasoning, while
 * those runs are quarantined as infrastructure failures, never clustered as quality failures.
 * And quality failures that strike two agents on the same stimuli (the preparer failing where the
 * intake misread the household) are reported beside them, with the stimuli and the dependency.
 */
import { assert, describe, it } from "@effect/vitest"
import { Effect, Ref } from "effect"
import { ScanOrchestrator, WorkspaceRepo } from "@spectral/engine"
import { countingModel, makeLog, scanLayer, smallWorkspace } from "./ScanHarness.ts"

describe("systemic signals", () => {
  it.effect("a burst of 429s across agents is reported as rate limiting and quarantined", () =>
    Effect.gen(function*() {
      const calls = yield* Ref.make<ReadonlyArray<string>>([])
      const crashAt = yield* Ref.make<number | undefined>(undefined)
      // Observe makes 48 × 3 calls; calls 40–70 hit the rate limit (both agents and the judge).
      const log = { calls, crashAt, rateLimited: (index: number, phase: string) => phase === "observe" && index >= 40 && index < 70 }
      const outcome = yield* Effect.gen(function*() {
        // The burst hits most baseline runs: above the default maxInfraFailureRate that is a provider
        // outage and the scan fails fast (packages/engine/test/pipeline/ProviderOutage.test.ts); this test is about diagnosing it.
        const workspace = smallWorkspace((raw) => ({ ...raw, framework: { ...raw.framework, verdict: { ...raw.framework.verdict, maxInfraFailureRate: 0.9 } } }))
        yield* (yield* WorkspaceRepo).upsert(workspace)
        return yield* (yield* ScanOrchestrator).run({ workspaceId: workspace.id, seed: 2, concurrency: 1 })
      }).pipe(Effect.provide(scanLayer(countingModel(log))))
      const signals = outcome.diagnosis.systemicSignals ?? []
      const bunching = signals.find((s) => s.kind === "rate_limit_bunching")
      assert.isDefined(bunching, `signals: ${JSON.stringify(signals)}`)
      assert.include(bunching!.agents, "intake")
      assert.isAbove(outcome.diagnosis.quarantine.infraFailures.length, 0)
      const clustered = new Set(outcome.diagnosis.clusters.flatMap((c) => c.memberTraceIds))
      assert.isTrue(outcome.diagnosis.quarantine.infraFailures.every((id) => !clustered.has(id)), "quarantined runs are not clustered")
      assert.isTrue(outcome.changeSet!.explainability.reasoning.some((line) => line.startsWith("Systemic signal (rate_limit_bunching)")))
    }))

  it.effect("two agents failing together on the same stimuli: a correlated quality failure with the stimuli and the dependency", () =>
    Effect.gen(function*() {
      const workspace = smallWorkspace()
      const scan = (misreads?: (user: string) => boolean) =>
        Effect.gen(function*() {
          const log = yield* makeLog
          return yield* Effect.gen(function*() {
            yield* (yield* WorkspaceRepo).upsert(workspace)
            return yield* (yield* ScanOrchestrator).run({ workspaceId: workspace.id, seed: 3, concurrency: 4 })
          }).pipe(Effect.provide(scanLayer(countingModel(log, 1, misreads))))
        })
      // Control: the same scan with no shared misreading reports no correlated quality failure.
      const control = yield* scan()
      assert.isUndefined((control.diagnosis.systemicSignals ?? []).find((s) => s.kind === "correlated_quality_failure"), JSON.stringify(control.diagnosis.systemicSignals))
      // The model misreads married households, for both agents.
      const outcome = yield* scan((user) => /\bmarried\b/i.test(user))
      const signals = outcome.diagnosis.systemicSignals ?? []
      const correlated = signals.find((s) => s.kind === "correlated_quality_failure")
      assert.isDefined(correlated, `signals: ${JSON.stringify(signals)}`)
      assert.isAtLeast(correlated!.agents.length, 2)
      assert.isAtLeast(correlated!.stimuli?.length ?? 0, 3)
      assert.include(correlated!.description, "fail together on")
      assert.include(correlated!.description, "advisor depends on intake")
      assert.isTrue(outcome.changeSet!.explainability.reasoning.some((line) => line.startsWith("Systemic signal (correlated_quality_failure)")))
    }))
})
