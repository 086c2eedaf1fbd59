import { assert, describe, it } from "@effect/vitest"
import { Effect, Result } from "effect"
import { adjustedRandIndex } from "../../src/testing/AdjustedRandIndex.ts"
import {
  clusterFailures,
  clusterFailuresWith,
  type FailureClusteringInput,
  type RubricFailure
} from "../../src/clustering/FailureClustering.ts"
import { failureExplanations } from "../../src/testing/FailureExplanations.ts"
import * as HashedTfIdfEmbedding from "../../src/clustering/HashedTfIdfEmbedding.ts"
import { severityTemplateOf } from "../../src/clustering/SeverityTemplate.ts"
import { clusterTexts } from "../../src/clustering/TextClustering.ts"

const failure = (traceId: string, explanation: string, rubricScore: number, agent = "preparer"): RubricFailure => ({
  traceId,
  agent,
  explanation,
  rubricScore
})

const scan: FailureClusteringInput = {
  evaluatedCount: 40,
  passingMeanScore: 0.85,
  failures: [
    failure("t1", "timeout after 30s calling tax_lookup", 0.3),
    failure("t2", "timeout after 5s calling tax_lookup", 0.5),
    failure("t3", "timeout after 30s calling tax_lookup", 0.35),
    failure("t4", "Timeout after 60s calling tax_lookup", 0.25, "reviewer"),
    failure("t5", "used 2021 tax brackets instead of the 2024 brackets", 0.4),
    failure("t6", "used 2019 tax brackets instead of the 2023 brackets", 0.45),
    failure("t7", "used 2022 tax brackets instead of the 2024 brackets", 0.5),
    failure("t8", "provider returned 429 rate limit after 3 retries", 0.1),
    failure("t9", "provider returned 429 rate limit after 5 retries", 0.1),
    failure("t10", "provider returned 429 rate limit after 2 retries", 0.2)
  ]
}

describe("severity templates", () => {
  it.effect("replace quantities (keeping units) and ids, and keep the values", () =>
    Effect.sync(() => {
      assert.deepStrictEqual(severityTemplateOf("timeout after 30s calling tax_lookup"), {
        template: "timeout after <num>s calling tax_lookup",
        values: ["30s"]
      })
      assert.deepStrictEqual(severityTemplateOf("refund off by $1,200.50 (12%) for trace 8f3a9c2e1d, tax_lookup2 v2"), {
        template: "refund off by $<num> (<num>%) for trace <id>, tax_lookup2 v2",
        values: ["1,200.50", "12%", "8f3a9c2e1d"]
      })
    }))
})

describe("hashed TF-IDF embedding", () => {
  it.effect("gives deterministic unit rows, closer for texts that share words", () =>
    Effect.sync(() => {
      const texts = ["timeout calling tax_lookup", "tax_lookup timed out", "used outdated tax brackets"]
      const first = HashedTfIdfEmbedding.embedCorpus(texts)
      assert.deepStrictEqual(first.data, HashedTfIdfEmbedding.embedCorpus(texts).data)
      const d = first.columns
      const dot = (a: number, b: number) => {
        let sum = 0
        for (let j = 0; j < d; j++) sum += first.data[a * d + j] * first.data[b * d + j]
        return sum
      }
      for (let i = 0; i < 3; i++) assert.closeTo(dot(i, i), 1, 1e-12)
      assert.isAbove(dot(0, 1), dot(0, 2))
    }))
})

describe("clusterFailures", () => {
  it.effect("links severity variants of one root cause into one cluster and lists them", () =>
    Effect.sync(() => {
      const result = Result.getOrThrow(clusterFailures(scan, { seed: 1 }))
      assert.strictEqual(result.k, 3)
      const timeout = result.clusters.find((cluster) => cluster.memberIds.includes("t1"))!
      assert.deepStrictEqual([...timeout.memberIds].sort(), ["t1", "t2", "t3", "t4"])
      assert.deepStrictEqual(
        timeout.variants.map((variant) => [variant.pattern, variant.values, variant.memberIds]),
        [
          ["timeout after <num>s calling tax_lookup", ["30s"], ["t1", "t3"]],
          ["timeout after <num>s calling tax_lookup", ["5s"], ["t2"]],
          ["timeout after <num>s calling tax_lookup", ["60s"], ["t4"]]
        ]
      )
      assert.deepStrictEqual(timeout.agents, ["preparer", "reviewer"])
    }))

  it.effect("labels clusters with a phrase from what their members say (varying quantities as ranges), and reports frequency and effect size", () =>
    Effect.sync(() => {
      const result = Result.getOrThrow(clusterFailures(scan, { seed: 1 }))
      const [timeout, ...rest] = result.clusters
      assert.strictEqual(timeout.label, "timeout after 5–60s calling tax_lookup")
      assert.deepStrictEqual(result.clusters.map((c) => c.label).sort(), [
        "provider returned 429 rate limit after 2–5 retries",
        "timeout after 5–60s calling tax_lookup",
        "used 2019–2022 tax brackets instead of the 2023–2024 brackets"
      ])
      // A phrase, not a bag of terms: its words, quantities aside, appear in this order in a member.
      for (const cluster of result.clusters) {
        const words = cluster.label.toLowerCase().split(" ").filter((w) => !/\d/.test(w))
        const members = scan.failures.filter((f) => cluster.memberIds.includes(f.traceId)).map((f) => f.explanation.toLowerCase())
        assert.isTrue(members.some((text) => new RegExp(words.map((w) => w.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")).join(".*")).test(text)), cluster.label)
        assert.notInclude(cluster.label, "<num>")
      }
      assert.strictEqual(timeout.frequencyPct, 10)
      assert.closeTo(timeout.effectSize, 100 * (0.85 - (0.3 + 0.5 + 0.35 + 0.25) / 4), 1e-9)
      // One template here, so the representatives are its severity variants, largest first.
      assert.deepStrictEqual(timeout.representativeExplanations.map((entry) => entry.explanation), [
        "timeout after 30s calling tax_lookup",
        "timeout after 5s calling tax_lookup",
        "Timeout after 60s calling tax_lookup"
      ])
      assert.strictEqual(rest.length, 2)
    }))

  it.effect("marks infrastructure-noise and single-member clusters as not actionable", () =>
    Effect.sync(() => {
      const result = Result.getOrThrow(clusterFailures(scan, { seed: 1 }))
      const byMember = (id: string) => result.clusters.find((cluster) => cluster.memberIds.includes(id))!
      assert.isTrue(byMember("t1").actionable)
      assert.isTrue(byMember("t5").actionable)
      assert.isFalse(byMember("t8").actionable)
      assert.include(byMember("t8").actionableReason, "infrastructure")
      const lonely = Result.getOrThrow(clusterFailures({ ...scan, failures: [scan.failures[0]] }))
      assert.isFalse(lonely.clusters[0].actionable)
    }))

  it.effect("is deterministic for a seed, and the EmbeddingModel path gives the same clusters", () =>
    Effect.gen(function*() {
      const generated = failureExplanations({ n: 240, causes: 8, seed: 4 })
      const input: FailureClusteringInput = {
        evaluatedCount: 1000,
        passingMeanScore: 0.9,
        failures: generated.texts.map((explanation, i) => failure(`g${i}`, explanation, generated.scores[i]))
      }
      const first = Result.getOrThrow(clusterFailures(input, { seed: 7 }))
      assert.deepStrictEqual(Result.getOrThrow(clusterFailures(input, { seed: 7 })), first)
      const viaModel = yield* clusterFailuresWith(input, { seed: 7 }).pipe(Effect.provide(HashedTfIdfEmbedding.layer))
      assert.deepStrictEqual(viaModel.clusters, first.clusters)
    }))

  it.effect("recovers generated root causes with their phrasings and variants (ARI > 0.9, fixed or auto k)", () =>
    Effect.sync(() => {
      for (const [n, causes, seed] of [[300, 8, 3], [600, 10, 9], [2000, 12, 3]] as const) {
        const generated = failureExplanations({ n, causes, seed })
        const fixed = Result.getOrThrow(clusterTexts(generated.texts, { k: causes, seed: 1 }))
        assert.isAbove(adjustedRandIndex(generated.labels, fixed.labels), 0.9)
        const auto = Result.getOrThrow(clusterTexts(generated.texts, { seed: 1 }))
        assert.isAbove(adjustedRandIndex(generated.labels, auto.labels), 0.9)
        assert.isAtMost(Math.abs(auto.k - causes), 1)
      }
    }))

  it.effect("input type cannot carry world-model outputs", () =>
    Effect.sync(() => {
      const withWorldModel = {
        traceId: "t1",
        explanation: "x",
        rubricScore: 0.5,
        worldModelScore: 0.2,
        ruleViolations: ["R-12"]
      }
      // @ts-expect-error world-model outputs are not expressible in a RubricFailure
      const leaked: RubricFailure = withWorldModel
      const literal: FailureClusteringInput = {
        evaluatedCount: 1,
        passingMeanScore: 0.9,
        // @ts-expect-error excess property: a verdict is a world-model output
        failures: [{ traceId: "t1", explanation: "x", rubricScore: 0.5, verdict: "fail" }]
      }
      // At run time extra fields are dropped: nothing but rubric fields reaches a report.
      const report = Result.getOrThrow(clusterFailures({ ...literal, failures: [leaked] }))
      assert.notInclude(JSON.stringify(report), "R-12")
      assert.notInclude(JSON.stringify(report), "worldModel")
    }))

  it.effect("bad input fails with a ClusteringError naming the problem", () =>
    Effect.sync(() => {
      const reason = (input: FailureClusteringInput) => {
        const result = clusterFailures(input)
        assert.isTrue(Result.isFailure(result))
        return Result.isFailure(result) ? result.failure.reason : undefined
      }
      assert.deepInclude(reason({ ...scan, failures: [] }), { _tag: "EmptyInput", what: "failures" })
      assert.deepInclude(reason({ ...scan, evaluatedCount: 5 }), { _tag: "InvalidArgument", argument: "evaluatedCount" })
      assert.deepInclude(reason({ ...scan, passingMeanScore: 85 }), { _tag: "InvalidArgument", argument: "passingMeanScore" })
      assert.deepInclude(reason({ ...scan, failures: [failure("a", "x", NaN)] }), { _tag: "NonFiniteValue", row: 0 })
      assert.deepInclude(reason({ ...scan, failures: [failure("a", "x", 1.5)] }), { _tag: "InvalidArgument", argument: "rubricScore" })
      assert.deepInclude(reason({ ...scan, failures: [failure("a", "x", 0.5), failure("a", "y", 0.5)] }), { _tag: "InvalidArgument", argument: "traceId" })
      const tooMany = clusterFailures(scan, { k: 9 })
      assert.isTrue(Result.isFailure(tooMany) && tooMany.failure.reason._tag === "InvalidK")
    }))
})
