import { assert, describe, it } from "@effect/vitest"
import { Effect, Result } from "effect"
import { withoutBookkeeping } from "../../src/clustering/ClusterLabel.ts"
import { clusterFailures, type FailureClusteringInput, type RubricFailure } from "../../src/clustering/FailureClustering.ts"
import { conceptsOf } from "../../src/clustering/FailureVocabulary.ts"
import { clusterTexts } from "../../src/clustering/TextClustering.ts"
import { adjustedRandIndex } from "../../src/testing/AdjustedRandIndex.ts"
import { paraphraseCauses, paraphraseCorpus } from "../../src/testing/ParaphraseCorpus.ts"

const escape = (word: string) => word.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")

/** Whether the label's words (quantities and "…" aside) occur, in order, in one of the texts. */
const isPhraseOf = (label: string, texts: ReadonlyArray<string>): boolean => {
  const words = label.toLowerCase().replace(/…/gu, " ").split(/\s+/u).filter((w) => w.length > 0 && !/\d/u.test(w))
  const pattern = new RegExp(words.map(escape).join(".*"), "u")
  return texts.some((text) => pattern.test(text.toLowerCase()))
}

/** The cluster most of a cause's members are in, and the share of them that are there. */
const majority = (labels: Int32Array, truth: Int32Array, cause: number) => {
  const counts = new Map<number, number>()
  let total = 0
  truth.forEach((t, i) => {
    if (t !== cause) return
    total++
    counts.set(labels[i], (counts.get(labels[i]) ?? 0) + 1)
  })
  const [cluster, count] = [...counts].sort((a, b) => b[1] - a[1])[0]!
  return { cluster, share: count / total }
}

describe("paraphrase corpus", () => {
  it.effect("has at least 10 root causes × 8 phrasings, with judge noise, and is deterministic for a seed", () =>
    Effect.sync(() => {
      assert.isAtLeast(paraphraseCauses.length, 10)
      for (const cause of paraphraseCauses) assert.isAtLeast(cause.phrasings.length, 8, cause.name)
      const corpus = paraphraseCorpus({ n: 480, seed: 2 })
      assert.deepStrictEqual(paraphraseCorpus({ n: 480, seed: 2 }).texts, corpus.texts)
      assert.notDeepEqual(paraphraseCorpus({ n: 480, seed: 3 }).texts, corpus.texts)
      // Every phrasing of every cause appears.
      const seen = new Set(corpus.texts.map((_, i) => `${corpus.labels[i]}/${corpus.phrasings[i]}`))
      assert.strictEqual(seen.size, paraphraseCauses.reduce((n, cause) => n + cause.phrasings.length, 0))
      // Step prefixes, run and trace ids, several tool names: what real judges' explanations carry.
      assert.isTrue(corpus.texts.some((t) => /^step \d+/iu.test(t)))
      assert.isTrue(corpus.texts.some((t) => /\brun [0-9a-f]{8}/u.test(t)))
      assert.isTrue(corpus.texts.some((t) => /trace [0-9a-f]{12}/u.test(t)))
      for (const tool of ["tax_lookup", "fetch_irs_data", "LedgerClient"]) assert.isTrue(corpus.texts.some((t) => t.includes(tool)), tool)
      const names = corpus.nearMisses.map(([a, b]) => [corpus.causes[a]!.name, corpus.causes[b]!.name])
      assert.deepInclude(names, ["lookup tool timeout", "lookup tool rate limit"])
    }))
})

describe("paraphrase-robust clustering (offline)", () => {
  it.effect("recovers the root causes at the true k (ARI ≥ 0.9) and chooses k within ±1", () =>
    Effect.sync(() => {
      for (const [n, seed] of [[240, 1], [480, 2]] as const) {
        const corpus = paraphraseCorpus({ n, seed })
        const k = corpus.causes.length
        const fixed = Result.getOrThrow(clusterTexts(corpus.texts, { k, seed: 1 }))
        assert.isAtLeast(adjustedRandIndex(corpus.labels, fixed.labels), 0.9, `n=${n} true k`)
        const auto = Result.getOrThrow(clusterTexts(corpus.texts, { seed: 1 }))
        assert.isAtLeast(adjustedRandIndex(corpus.labels, auto.labels), 0.9, `n=${n} auto k`)
        assert.isAtMost(Math.abs(auto.k - k), 1, `n=${n} chose k=${auto.k}`)
      }
    }))

  it.effect("keeps near-miss causes apart: a timeout and a rate limit on the same tool are different clusters", () =>
    Effect.sync(() => {
      const corpus = paraphraseCorpus({ n: 480, seed: 4 })
      const clustering = Result.getOrThrow(clusterTexts(corpus.texts, { k: corpus.causes.length, seed: 1 }))
      assert.isAtLeast(corpus.nearMisses.length, 3)
      for (const [a, b] of corpus.nearMisses) {
        const first = majority(clustering.labels, corpus.labels, a)
        const second = majority(clustering.labels, corpus.labels, b)
        assert.notStrictEqual(first.cluster, second.cluster, `${corpus.causes[a]!.name} vs ${corpus.causes[b]!.name}`)
        assert.isAtLeast(first.share, 0.9)
        assert.isAtLeast(second.share, 0.9)
      }
    }))

  it.effect("reads the failure vocabulary: paraphrases of a timeout share the concept, a rate limit does not", () =>
    Effect.sync(() => {
      for (const text of ["call to tax_lookup exceeded the 30s timeout", "step 5: no response from tax_lookup within 15s", "tax_lookup hung until the client gave up"]) {
        assert.include(conceptsOf(text), "timeout", text)
        assert.notInclude(conceptsOf(text), "rate_limit", text)
      }
      assert.include(conceptsOf("tax_lookup returned 429 Too Many Requests"), "rate_limit")
      assert.notInclude(conceptsOf("tax_lookup returned 429 Too Many Requests"), "timeout")
    }))
})

describe("cluster labels", () => {
  const corpus = paraphraseCorpus({ n: 480, seed: 2 })
  const input: FailureClusteringInput = {
    evaluatedCount: 2000,
    passingMeanScore: 0.9,
    failures: corpus.texts.map((explanation, i): RubricFailure => ({ traceId: `p${i}`, explanation, rubricScore: corpus.scores[i]! }))
  }

  it.effect("are phrases from the members' own text, not bags of top terms, and carry no judge bookkeeping", () =>
    Effect.sync(() => {
      const result = Result.getOrThrow(clusterFailures(input, { seed: 1, k: corpus.causes.length }))
      const byId = new Map(input.failures.map((f) => [f.traceId, f.explanation]))
      for (const cluster of result.clusters) {
        const members = cluster.memberIds.map((id) => byId.get(id)!)
        assert.isTrue(isPhraseOf(cluster.label, members), `"${cluster.label}" is not a phrase of its members`)
        assert.notStrictEqual(cluster.label, cluster.topTerms.join(" "))
        assert.isAtLeast(cluster.label.split(/\s+/u).length, 3, cluster.label)
        assert.notMatch(cluster.label, /<num>|<id>|\btrace\b|\bscore:|latency|\[run|^step \d/iu)
      }
      // The timeout cluster's label says timeout, the rate-limit cluster's says what a rate limit says.
      const clusterOf = (cause: string) => {
        const index = corpus.causes.findIndex((c) => c.name === cause)
        const member = `p${corpus.labels.findIndex((label) => label === index)}`
        return result.clusters.find((cluster) => cluster.memberIds.includes(member))!
      }
      assert.include(conceptsOf(clusterOf("lookup tool timeout").label), "timeout")
      assert.include(conceptsOf(clusterOf("lookup tool rate limit").label), "rate_limit")
    }))

  it.effect("list the severity variants of the label's quantity, most frequent first", () =>
    Effect.sync(() => {
      const failures = [
        ["t1", "timeout after 30s calling tax_lookup"],
        ["t2", "step 3: timeout after 15s calling tax_lookup"],
        ["t3", "timeout after 15s calling tax_lookup (run 9f8e7d6c)"],
        ["t4", "timeout after 15s calling tax_lookup. Score: 2/5."]
      ].map(([traceId, explanation]): RubricFailure => ({ traceId: traceId!, explanation: explanation!, rubricScore: 0.3 }))
      const [cluster] = Result.getOrThrow(clusterFailures({ failures, evaluatedCount: 10, passingMeanScore: 0.9 }, { seed: 1, k: 1 })).clusters
      assert.strictEqual(cluster!.label, "timeout after 15–30s calling tax_lookup")
      assert.deepStrictEqual(cluster!.severities, [{ value: "15s", count: 3 }, { value: "30s", count: 1 }])
      assert.strictEqual(cluster!.severitySummary, "15s ×3, 30s ×1")
    }))

  it.effect("keep a subordinate clause with what it qualifies when the members say both, and only the shared part when they do not", () =>
    Effect.sync(() => {
      const labelOf = (statuses: ReadonlyArray<string>) => {
        const failures = statuses.map((was, i): RubricFailure => ({
          traceId: `s${i}`,
          explanation: `step ${i + 2}: Answered ${was} where married filing jointly applies from the stated facts.`,
          rubricScore: 0.2
        }))
        return Result.getOrThrow(clusterFailures({ failures, evaluatedCount: 10, passingMeanScore: 0.9 }, { seed: 1, k: 1 })).clusters[0]!.label
      }
      assert.strictEqual(labelOf(["single", "single", "single"]), "Answered single where married filing jointly applies from the stated facts")
      assert.strictEqual(labelOf(["single", "head of household", "married filing separately"]), "married filing jointly applies from the stated facts")
    }))

  it.effect("strip step prefixes, run and trace ids, latencies and scores from what a label can say", () =>
    Effect.sync(() => {
      assert.strictEqual(withoutBookkeeping("step 5: no response from tax_lookup within 15s"), "no response from tax_lookup within 15s")
      assert.strictEqual(withoutBookkeeping("[run 1a2b3c4d] tax_lookup returned 429 [latency 812ms]"), "tax_lookup returned 429")
      assert.strictEqual(withoutBookkeeping("missing standard deduction. Score: 2/5."), "missing standard deduction.")
      assert.strictEqual(withoutBookkeeping("answer cut short - run r_7hq2xl"), "answer cut short")
    }))
})
