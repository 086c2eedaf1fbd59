import { assert, describe, it } from "@effect/vitest"
import { drawBinomial, drawMultinomial } from "../../src/stats/Binomial.ts"
import { normalCdf, normalQuantile } from "../../src/stats/NormalDistribution.ts"
import { categorize } from "../../src/stats/ResamplePlan.ts"
import { multiplyHigh32, SeededStream } from "../../src/stats/SeededStream.ts"
import { linearQuantiles } from "../../src/stats/Selection.ts"

describe("SeededStream", () => {
  it("matches the xoshiro128** reference vector for state (1, 2, 3, 4)", () => {
    const stream = new SeededStream(Uint32Array.of(1, 2, 3, 4))
    const first = Array.from({ length: 10 }, () => stream.nextUint32())
    assert.deepStrictEqual(first, [
      11520, 0, 5927040, 70819200, 2031721883, 1637235492, 1287239034, 3734860849, 3729100597, 4258142804
    ])
  })

  it("derived streams differ by seed and by stream index", () => {
    const a = SeededStream.make(1, 0).nextUint32()
    assert.notStrictEqual(SeededStream.make(2, 0).nextUint32(), a)
    assert.notStrictEqual(SeededStream.make(1, 1).nextUint32(), a)
    assert.notStrictEqual(SeededStream.make(-1, 0).nextUint32(), a)
    assert.notStrictEqual(SeededStream.make(2 ** 40 + 1, 0).nextUint32(), a)
  })

  it("the high word of x·bound is exact, also beyond 2^21 where a double product would round", () => {
    const stream = SeededStream.make(3, 0)
    for (let i = 0; i < 2000; i++) {
      const x = stream.nextUint32()
      const bound = i % 2 === 0 ? 1 + stream.nextBelow(2 ** 21) : 2 ** 21 + stream.nextUint32() % (2 ** 32 - 2 ** 21)
      assert.strictEqual(multiplyHigh32(x, bound), Number((BigInt(x) * BigInt(bound)) >> 32n))
    }
  })

  it("bounded draws are uniform (chi-square over 7 cells, n = 70,000)", () => {
    const stream = SeededStream.make(4, 0)
    const cells = new Array<number>(7).fill(0)
    for (let i = 0; i < 70_000; i++) cells[stream.nextBelow(7)]++
    const chiSquare = cells.reduce((total, count) => total + (count - 10_000) ** 2 / 10_000, 0)
    assert.isBelow(chiSquare, 22.5) // 99.9th percentile of χ²(6)
  })

  it("doubles lie strictly inside (0, 1) with mean ½", () => {
    const stream = SeededStream.make(5, 0)
    let sum = 0
    for (let i = 0; i < 100_000; i++) {
      const u = stream.nextDouble()
      assert.isTrue(u > 0 && u < 1)
      sum += u
    }
    assert.closeTo(sum / 100_000, 0.5, 0.004)
  })
})

describe("normal distribution (values from scipy.special)", () => {
  const cdf: ReadonlyArray<readonly [number, number]> = [
    [-8, 6.22096057427174e-16],
    [-5, 2.866515718791933e-07],
    [-3.2, 0.0006871379379158471],
    [-3, 0.0013498980316300933],
    [-1.96, 0.024997895148220435],
    [0.3, 0.6179114221889526],
    [2.9, 0.998134186699616],
    [3, 0.9986501019683699],
    [3.5, 0.9997673709209645],
    [6, 0.9999999990134123]
  ]
  const quantile: ReadonlyArray<readonly [number, number]> = [
    [1e-10, -6.361340902404056],
    [1e-4, -3.7190164854556804],
    [0.01, -2.3263478740408408],
    [0.025, -1.9599639845400545],
    [0.3, -0.5244005127080409],
    [0.6, 0.2533471031357997],
    [0.975, 1.959963984540054],
    [0.999, 3.090232306167813],
    [0.999999999, 5.997807019601637]
  ]
  it("Φ to 1e-14 relative in the lower tail, 1e-15 absolute", () => {
    for (const [x, expected] of cdf) {
      assert.isBelow(Math.abs(normalCdf(x) - expected), Math.max(1e-15, 1e-13 * expected), `Φ(${x})`)
    }
    assert.strictEqual(normalCdf(-Infinity), 0)
    assert.strictEqual(normalCdf(Infinity), 1)
  })
  it("Φ⁻¹ to 1e-12", () => {
    for (const [p, expected] of quantile) assert.closeTo(normalQuantile(p), expected, 1e-7 * Math.abs(expected) + 1e-12, `Φ⁻¹(${p})`)
    assert.strictEqual(normalQuantile(0), -Infinity)
    assert.strictEqual(normalQuantile(1), Infinity)
  })
})

describe("selection", () => {
  it("type-7 quantiles by selection equal the sorted-array definition", () => {
    const stream = SeededStream.make(6, 0)
    for (const size of [1, 2, 3, 10, 999, 5000]) {
      for (const [low, high] of [[0.025, 0.975], [0, 1], [0.5, 0.5], [0.1, 0.100001]]) {
        const values = Float64Array.from({ length: size }, () => Math.floor(stream.nextDouble() * 50))
        const sorted = Float64Array.from(values).sort()
        const expected = (p: number) => {
          const position = (size - 1) * p
          const rank = Math.floor(position)
          return rank + 1 < size ? sorted[rank] + (position - rank) * (sorted[rank + 1] - sorted[rank]) : sorted[rank]
        }
        const [a, b] = linearQuantiles(values, low, high)
        assert.closeTo(a, expected(low), 1e-9)
        assert.closeTo(b, expected(high), 1e-9)
      }
    }
  })
})

describe("binomial and multinomial draws", () => {
  for (const [trials, probability] of [[20, 0.3], [100_000, 0.9], [1000, 0.004], [50, 0.5], [7, 1]] as const) {
    it(`Binomial(${trials}, ${probability}) has the right mean and variance`, () => {
      const stream = SeededStream.make(7, trials)
      const draws = 40_000
      let sum = 0
      let squares = 0
      for (let i = 0; i < draws; i++) {
        const k = drawBinomial(stream, trials, probability)
        assert.isTrue(Number.isInteger(k) && k >= 0 && k <= trials)
        sum += k
        squares += k * k
      }
      const mean = sum / draws
      const variance = squares / draws - mean * mean
      const expectedVariance = trials * probability * (1 - probability)
      assert.closeTo(mean, trials * probability, 5 * Math.sqrt(expectedVariance / draws) + 1e-12)
      if (expectedVariance > 0) assert.closeTo(variance / expectedVariance, 1, 0.05)
    })
  }

  it("Binomial(60, 0.35) (transformed rejection) matches the exact pmf (chi-square)", () => {
    const trials = 60
    const p = 0.35
    const pmf = [(1 - p) ** trials]
    for (let k = 1; k <= trials; k++) pmf.push(pmf[k - 1] * ((trials - k + 1) / k) * (p / (1 - p)))
    const stream = SeededStream.make(8, 0)
    const draws = 100_000
    const observed = new Array<number>(trials + 1).fill(0)
    for (let i = 0; i < draws; i++) observed[drawBinomial(stream, trials, p)]++
    let chiSquare = 0
    let cells = 0
    for (let k = 0; k <= trials; k++) {
      const expected = pmf[k] * draws
      if (expected < 20) continue
      chiSquare += (observed[k] - expected) ** 2 / expected
      cells++
    }
    assert.isBelow(chiSquare, cells + 4 * Math.sqrt(2 * cells))
  })

  it("a multinomial draw uses all trials, in proportion to the counts", () => {
    const stream = SeededStream.make(9, 0)
    const counts = Float64Array.of(10, 30, 60)
    const into = new Float64Array(3)
    const totals = [0, 0, 0]
    for (let i = 0; i < 5000; i++) {
      drawMultinomial(stream, 100, counts, into)
      assert.strictEqual(into[0] + into[1] + into[2], 100)
      for (let k = 0; k < 3; k++) totals[k] += into[k]
    }
    assert.closeTo(totals[0] / 500_000, 0.1, 0.003)
    assert.closeTo(totals[2] / 500_000, 0.6, 0.003)
  })

  it("categorize finds the distinct rows and gives up beyond 32", () => {
    const table = categorize(Float64Array.of(1, 0, 1, 1, 0), null)!
    assert.deepStrictEqual(Array.from(table.numerators), [1, 0])
    assert.deepStrictEqual(Array.from(table.counts), [3, 2])
    assert.isNull(categorize(Float64Array.from({ length: 40 }, (_, i) => i), null))
  })
})
