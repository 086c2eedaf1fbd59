/**
 * Seeded synthetic failure explanations with known root causes and severity variants, for
 * tests and the benchmark: each root cause has a few phrasings with numeric slots, so the
 * same cause appears as "timeout after 30s calling tax_lookup" and "tax_lookup timed out
 * after 5s". Not used by the clustering itself.
 */
import { makeSeededRandom, type SeededRandom } from "../random/Sfc32.ts"

export interface RootCause {
  readonly name: string
  /** Whether the cause is infrastructure noise (not fixable by configuration). */
  readonly infrastructure: boolean
  /** Mean rubric score of traces failing this way, in [0, 1]. */
  readonly meanScore: number
  readonly phrasings: ReadonlyArray<(random: SeededRandom) => string>
}

const pick = <A>(random: SeededRandom, values: ReadonlyArray<A>): A => values[random.nextInt(values.length)]
const int = (random: SeededRandom, low: number, high: number) => low + random.nextInt(high - low + 1)
const money = (random: SeededRandom) => `$${int(random, 1, 30)},${String(int(random, 0, 999)).padStart(3, "0")}`

export const rootCauses: ReadonlyArray<RootCause> = [
  {
    name: "tax_lookup timeout",
    infrastructure: false,
    meanScore: 0.35,
    phrasings: [
      (r) => `timeout after ${pick(r, [5, 10, 15, 30, 60])}s calling tax_lookup`,
      (r) => `tax_lookup call timed out after ${pick(r, [5, 10, 30])}s, no fallback answer given`,
      (r) => `the agent waited ${pick(r, [20, 30, 45])}s for tax_lookup and the call timed out`
    ]
  },
  {
    name: "wrong tax year brackets",
    infrastructure: false,
    meanScore: 0.4,
    phrasings: [
      (r) => `used ${int(r, 2018, 2022)} tax brackets instead of the ${int(r, 2023, 2024)} brackets`,
      (r) => `bracket table is from tax year ${int(r, 2019, 2022)}, the return is for ${int(r, 2023, 2024)}`,
      (r) => `applied outdated ${int(r, 2018, 2022)} income tax brackets to the computation`
    ]
  },
  {
    name: "standard vs itemized deduction",
    infrastructure: false,
    meanScore: 0.45,
    phrasings: [
      (r) => `claimed the standard deduction of ${money(r)} although the user itemizes deductions`,
      (r) => `standard deduction ${money(r)} applied even though itemized deductions total ${money(r)}`,
      (r) => `ignored itemized deductions and took the standard deduction`
    ]
  },
  {
    name: "filing status ignored",
    infrastructure: false,
    meanScore: 0.3,
    phrasings: [
      () => `ignored the user's filing status married filing jointly`,
      () => `computed tax as single although the filing status is married filing jointly`,
      (r) => `filing status head of household stated in turn ${int(r, 1, 6)} was ignored`
    ]
  },
  {
    name: "hallucinated form",
    infrastructure: false,
    meanScore: 0.2,
    phrasings: [
      (r) => `cited IRS form ${pick(r, ["1040-Z", "W-11", "8899-B", "1099-Q2"])} which does not exist`,
      (r) => `hallucinated a nonexistent IRS form ${pick(r, ["1040-Z", "W-11", "8899-B"])} in the instructions`
    ]
  },
  {
    name: "rounding refund estimate",
    infrastructure: false,
    meanScore: 0.55,
    phrasings: [
      (r) => `refund estimate off by ${money(r)} because every line was rounded`,
      (r) => `rounded each line item, refund estimate differs by ${money(r)}`
    ]
  },
  {
    name: "asked for SSN again",
    infrastructure: false,
    meanScore: 0.5,
    phrasings: [
      (r) => `asked for the SSN again although it was provided in turn ${int(r, 1, 5)}`,
      (r) => `requested the social security number a second time after turn ${int(r, 2, 6)}`
    ]
  },
  {
    name: "dependent care age limit",
    infrastructure: false,
    meanScore: 0.4,
    phrasings: [
      (r) => `dependent care credit applied for a child aged ${int(r, 13, 17)}, over the age limit of 13`,
      (r) => `claimed child and dependent care credit for a ${int(r, 14, 17)} year old dependent`
    ]
  },
  {
    name: "provider rate limit",
    infrastructure: true,
    meanScore: 0.1,
    phrasings: [
      (r) => `provider returned 429 rate limit after ${int(r, 1, 5)} retries`,
      (r) => `rate limited by the model provider (429), gave up after ${int(r, 2, 4)} attempts`
    ]
  },
  {
    name: "truncated summary",
    infrastructure: false,
    meanScore: 0.6,
    phrasings: [
      (r) => `response truncated after ${pick(r, [256, 512, 1024])} tokens, the summary is missing`,
      (r) => `summary section missing because output was cut at ${pick(r, [512, 1024])} tokens`
    ]
  },
  {
    name: "state tax publication",
    infrastructure: false,
    meanScore: 0.45,
    phrasings: [
      (r) => `cited publication ${int(r, 500, 600)} which does not cover state income taxes`,
      (r) => `answered a state tax question from federal publication ${int(r, 500, 600)}`
    ]
  },
  {
    name: "estimated payments omitted",
    infrastructure: false,
    meanScore: 0.35,
    phrasings: [
      (r) => `omitted ${int(r, 1, 4)} quarterly estimated tax payments from the balance due`,
      (r) => `balance due ignores estimated payments of ${money(r)} made in Q${int(r, 1, 4)}`
    ]
  }
]

export interface GeneratedFailures {
  readonly texts: ReadonlyArray<string>
  /** Root cause index of each text. */
  readonly labels: Int32Array
  readonly scores: Float64Array
  readonly causes: ReadonlyArray<RootCause>
}

/** n explanations over the first `causes` root causes (round robin, then shuffled). */
export const failureExplanations = (options: { readonly n: number; readonly causes: number; readonly seed: number }): GeneratedFailures => {
  const random = makeSeededRandom(options.seed)
  const causes = rootCauses.slice(0, Math.min(options.causes, rootCauses.length))
  const order = Int32Array.from({ length: options.n }, (_, i) => i % causes.length)
  for (let i = order.length - 1; i > 0; i--) {
    const j = random.nextInt(i + 1)
    const swap = order[i]
    order[i] = order[j]
    order[j] = swap
  }
  const texts: Array<string> = []
  const scores = new Float64Array(options.n)
  order.forEach((cause, i) => {
    texts.push(pick(random, causes[cause].phrasings)(random))
    scores[i] = Math.min(1, Math.max(0, causes[cause].meanScore + 0.08 * random.nextGaussian()))
  })
  return { texts, labels: order, scores, causes }
}
