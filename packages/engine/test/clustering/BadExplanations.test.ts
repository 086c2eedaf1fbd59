/**
 * Explanations no judge should write but some do: empty, whitespace, one token, 100 KB, ill-formed
 * UTF-16, U+FFFD, control characters, and a corpus of one sentence repeated. Each gets a typed
 * result — skipped with its reason, or clustered (cleaned and truncated, with what was done) — and
 * no cluster has an empty label or a non-finite figure.
 */
import { assert, describe, it } from "@effect/vitest"
import { Result } from "effect"
import { type FailureClustering, clusterFailures } from "../../src/clustering/FailureClustering.ts"
import { screenExplanation } from "../../src/clustering/ExplanationScreen.ts"
import { MaxExplanationChars } from "../../src/clustering/ExplanationText.ts"

const timeouts = ["timeout after 15s calling tax_lookup", "timeout after 30s calling tax_lookup", "timeout after 45s calling tax_lookup"]
const filing = ["answered single where head of household applies", "answered single where head of household applies (trace 4e5f6a7b)"]

const cluster = (explanations: ReadonlyArray<string>): FailureClustering =>
  Result.getOrThrow(clusterFailures(
    { failures: explanations.map((explanation, i) => ({ traceId: `t${i}`, explanation, rubricScore: 0.2 })), evaluatedCount: explanations.length + 5, passingMeanScore: 0.9 },
    { seed: 1, k: "auto", kMin: 1, kMax: Math.max(1, Math.min(8, explanations.length - 1)) }
  ))

const wellFormed = (text: string) => !/[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/u.test(text)

/** What every clustering must hold, whatever its input. */
const sound = (result: FailureClustering) => {
  for (const c of result.clusters) {
    assert.isAbove(c.label.trim().length, 0, "empty label")
    assert.isTrue(wellFormed(c.label), c.label)
    assert.notMatch(c.label, /[\u0000-\u001F\u007F-\u009F\uFFFD]/u, c.label)
    for (const figure of [c.frequencyPct, c.effectSize, c.meanRubricScore]) assert.isTrue(Number.isFinite(figure), `${c.label}: ${figure}`)
    for (const r of c.representativeExplanations) {
      assert.isTrue(wellFormed(r.explanation))
      assert.isAtMost(r.explanation.length, MaxExplanationChars)
    }
  }
  assert.isTrue(Number.isFinite(result.inertia))
  const clustered = result.clusters.reduce((n, c) => n + c.memberIds.length, 0)
  assert.strictEqual(clustered + result.skipped.length, result.failureCount)
}

const clusterOf = (result: FailureClustering, traceId: string) => result.clusters.find((c) => c.memberIds.includes(traceId))

describe("bad explanations", () => {
  it("an empty explanation is skipped (reason empty), not clustered with the others", () => {
    const result = cluster(["", ...timeouts])
    sound(result)
    assert.deepStrictEqual(result.skipped.map((s) => [s.traceId, s.index, s.reason]), [["t0", 0, "empty"]])
    assert.isUndefined(clusterOf(result, "t0"))
    assert.strictEqual(result.clusters[0]!.memberIds.length, 3)
  })

  it("a whitespace-only explanation is skipped (whitespace_only)", () => {
    const result = cluster([...timeouts, " \n\t  "])
    sound(result)
    assert.deepStrictEqual(result.skipped.map((s) => [s.traceId, s.reason]), [["t3", "whitespace_only"]])
  })

  it("one-token explanations are clustered, labelled by that word", () => {
    const result = cluster(["timeout", "timeout", "Timeout"])
    sound(result)
    assert.deepStrictEqual(result.skipped, [])
    assert.strictEqual(result.clusters.length, 1)
    assert.match(result.clusters[0]!.label, /^timeout$/iu)
  })

  it("a token with nothing to weigh (a number, one letter, a stop word, an id) is skipped as no_content", () => {
    const result = cluster([...timeouts, "42", "x", "the", "9f86d081884c7d65"])
    sound(result)
    assert.deepStrictEqual(result.skipped.map((s) => s.reason), ["no_content", "no_content", "no_content", "no_content"])
    assert.match(result.skipped[0]!.detail, /"42"/)
  })

  it("a 100 KB explanation is truncated for featurization, recorded, and still clustered with its cause", () => {
    const long = `timeout after 20s calling tax_lookup. ${"The call to tax_lookup timed out again while the agent waited for a response. ".repeat(1_300)}`
    assert.isAbove(long.length, 100_000)
    const result = cluster([...timeouts, long, ...filing])
    sound(result)
    assert.deepStrictEqual(result.skipped, [])
    const [adjusted] = result.adjusted
    assert.strictEqual(adjusted?.traceId, "t3")
    assert.deepStrictEqual(adjusted!.adjustments, ["truncated"])
    assert.strictEqual(adjusted!.originalChars, long.length)
    assert.strictEqual(adjusted!.keptChars, MaxExplanationChars)
    // Compared by id: a failing deep-equality diff would print the 20,000-character pattern.
    assert.strictEqual(clusterOf(result, "t3")?.id, clusterOf(result, "t0")?.id)
    assert.notStrictEqual(clusterOf(result, "t3")?.id, clusterOf(result, "t4")?.id)
    assert.isAtMost(clusterOf(result, "t3")!.label.length, 90)
  })

  it("lone surrogates are replaced and recorded; the label and representatives are well-formed", () => {
    const broken = "timeout after 60s calling tax_lookup \uD800 while \uDC00 waiting"
    const result = cluster([...timeouts, broken])
    sound(result)
    assert.deepStrictEqual(result.adjusted.map((a) => [a.traceId, a.adjustments]), [["t3", ["lone_surrogates_replaced"]]])
    assert.strictEqual(clusterOf(result, "t3")?.id, clusterOf(result, "t0")?.id)
  })

  it("U+FFFD alone is no content; inside a sentence it is kept, noted, and kept out of the label", () => {
    const result = cluster(["\uFFFD\uFFFD\uFFFD", "answered single where head of household applies \uFFFD\uFFFD", ...filing])
    sound(result)
    assert.deepStrictEqual(result.skipped.map((s) => [s.traceId, s.reason]), [["t0", "no_content"]])
    assert.deepStrictEqual(result.adjusted.map((a) => [a.traceId, a.adjustments]), [["t1", ["undecodable_characters"]]])
    assert.strictEqual(clusterOf(result, "t1")?.id, clusterOf(result, "t2")?.id)
  })

  it("control characters and terminal colours are removed and recorded; control characters alone are no content", () => {
    const result = cluster(["\u0000\u0001\u0002\u001b", "\u001b[31mtimeout\u001b[0m after 15s\u0007 calling tax_lookup\u0000", ...timeouts])
    sound(result)
    assert.deepStrictEqual(result.skipped.map((s) => [s.traceId, s.reason]), [["t0", "no_content"]])
    assert.deepStrictEqual(result.adjusted.map((a) => [a.traceId, a.adjustments]), [["t1", ["control_characters_removed"]]])
    const c = clusterOf(result, "t1")!
    assert.strictEqual(c.id, clusterOf(result, "t2")?.id)
    assert.notInclude(c.label, "[31m")
    assert.notInclude(c.representativeExplanations.map((r) => r.explanation).join(" "), "[31m")
  })

  it("ordinary line breaks and tabs are layout, not an adjustment", () => {
    assert.deepStrictEqual(screenExplanation("timeout after 15s\n\tcalling tax_lookup"), {
      _tag: "Kept",
      text: "timeout after 15s\n\tcalling tax_lookup",
      adjustments: [],
      originalChars: 37,
      keptChars: 37
    })
  })

  it("a corpus of one sentence repeated is one cluster labelled by that sentence", () => {
    const same = Array.from({ length: 60 }, () => "the filer was classified as single but MFJ applies")
    const result = cluster(same)
    sound(result)
    assert.strictEqual(result.k, 1)
    assert.strictEqual(result.clusters.length, 1)
    assert.strictEqual(result.clusters[0]!.memberIds.length, 60)
    assert.strictEqual(result.clusters[0]!.label, "the filer was classified as single but MFJ applies")
    assert.strictEqual(result.clusters[0]!.variants.length, 1)
  })

  it("when every explanation is skipped there are no clusters (k = 0) and each skip has its reason", () => {
    const result = cluster(["", "   ", "\u0000", "\uFFFD"])
    sound(result)
    assert.strictEqual(result.k, 0)
    assert.deepStrictEqual(result.clusters, [])
    assert.deepStrictEqual(result.skipped.map((s) => s.reason), ["empty", "whitespace_only", "no_content", "no_content"])
    assert.strictEqual(result.failureCount, 4)
  })
})
