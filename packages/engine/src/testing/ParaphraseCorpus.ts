/**
 * A seeded corpus of failure explanations written the way different LLM judges write them, for
 * testing and benchmarking root-cause clustering on text it was not tuned on. Twelve root causes
 * of a tax-preparation agent team, each with ten to twelve hand-written phrasings that share no
 * template: synonyms ("timed out" / "no response within" / "deadline"), reordered clauses, other
 * quantities, money and year formats, several tool names per cause, and judge noise around the
 * sentence — step and turn prefixes, run and trace ids (hex, UUID, base-36), latencies, scores,
 * agent names, casing and trailing punctuation.
 *
 * Three near-miss pairs share most of their vocabulary and must stay apart: a timeout vs a rate
 * limit on the same tools, a missing standard deduction vs a wrong deduction amount, and a truncated
 * answer vs malformed JSON. `nearMissPairs` names them.
 *
 * Independent of `FailureExplanations.ts` (the engine's own generator, a few templates per cause
 * with numeric slots): nothing here is shared with it. Not used by the clustering itself.
 */
import { makeSeededRandom, type SeededRandom } from "../random/Sfc32.ts"

/** What a phrasing draws its variable parts from. */
export interface JudgeSlots {
  readonly int: (low: number, high: number) => number
  readonly pick: <A>(values: ReadonlyArray<A>) => A
  /** A dollar amount, formatted one of several ways ("$14,600", "$14600", "14,600 USD"). */
  readonly money: () => string
  /** A lookup tool of the team (several names, shared by the tool causes). */
  readonly tool: () => string
  readonly taxYear: () => number
  readonly filingStatus: () => string
}

export interface ParaphraseCause {
  readonly name: string
  /** Whether the cause is infrastructure (not fixable by configuration). */
  readonly infrastructure: boolean
  /** Mean rubric score of traces failing this way, in [0, 1]. */
  readonly meanScore: number
  readonly phrasings: ReadonlyArray<(slots: JudgeSlots) => string>
}

const fakeForms = ["1040-Z", "W-11", "8899-B", "1099-QX", "Schedule T", "Form 2290-EZ", "Form 8869-S"]
const fakePublications = ["Pub 5001", "Publication 986", "Pub 17-A", "Publication 777"]
const askedAgain = ["the SSN", "the social security number", "W-2 wages", "the date of birth", "the spouse's name", "the number of children", "last year's AGI"]
const jsonFields = ["filing_status", "taxable_income", "refund", "deductions", "dependents", "total_tax"]

export const paraphraseCauses: ReadonlyArray<ParaphraseCause> = [
  {
    name: "lookup tool timeout",
    infrastructure: false,
    meanScore: 0.35,
    phrasings: [
      (s) => `timeout after ${s.pick([5, 10, 15, 30, 60])}s calling ${s.tool()}`,
      (s) => `call to ${s.tool()} exceeded the ${s.pick([10, 15, 30])}s timeout`,
      (s) => `no response from ${s.tool()} within ${s.pick([5, 15, 20])}s; the call timed out`,
      (s) => `${s.tool()} timed out (${s.pick([8, 12, 30])}s) and the agent answered without the lookup result`,
      (s) => `The agent waited ${s.int(20, 90)} seconds on ${s.tool()}, hit the time limit and never produced an answer`,
      (s) => `${s.tool()} did not respond before the ${s.pick([500, 2000, 5000])}ms deadline and timed out; no fallback was tried`,
      (s) => `Stalled on ${s.tool()}: the request hung until the client timed out after ${s.int(10, 45)}s.`,
      (s) => `tool call ${s.tool()} timed out, so the bracket figures are missing`,
      (s) => `${s.tool()} took longer than the ${s.int(5, 30)}-second timeout and the call was aborted`,
      (s) => `request to ${s.tool()} never came back (timeout at ${s.pick([15, 30])}s)`,
      (s) => `${s.tool()} gave no response before the timeout`,
      (s) => `no response from ${s.tool()} within ${s.pick([15, 30])}s`
    ]
  },
  {
    name: "lookup tool rate limit",
    infrastructure: true,
    meanScore: 0.15,
    phrasings: [
      (s) => `${s.tool()} returned 429 Too Many Requests`,
      (s) => `rate limited by ${s.tool()} after ${s.int(3, 12)} calls in a row`,
      (s) => `${s.tool()} rejected the request: rate limit exceeded, retry after ${s.int(2, 60)}s`,
      (s) => `Got throttled by ${s.tool()} (HTTP 429); retried ${s.int(2, 6)} times and gave up`,
      (s) => `the agent fired ${s.int(8, 40)} requests at ${s.tool()} in ${s.int(1, 5)}s and hit the rate limit`,
      (s) => `${s.tool()} quota exhausted: too many requests per minute`,
      (s) => `429 from ${s.tool()}; the agent did not back off before retrying`,
      (s) => `requests to ${s.tool()} were refused by its rate limiter (${s.pick([10, 20, 60])} calls per minute)`,
      (s) => `${s.tool()} is throttling the agent (429 responses), the lookup was denied`,
      (s) => `hit the ${s.tool()} rate limit of ${s.pick([10, 30, 100])} requests per minute`
    ]
  },
  {
    name: "standard deduction missing",
    infrastructure: false,
    meanScore: 0.3,
    phrasings: [
      () => `The standard deduction was never applied to gross income`,
      (s) => `forgot to apply the standard deduction, so taxable income equals the AGI of ${s.money()}`,
      (s) => `taxable income is overstated by ${s.money()} because no standard deduction was applied`,
      () => `missing standard deduction in the taxable income computation`,
      () => `Agent skipped the deduction step entirely: no deduction, straight from AGI to the tax table`,
      (s) => `line ${s.pick([12, 13])} is missing the deduction; neither standard nor itemized was applied`,
      (s) => `No deduction applied: taxable income (${s.money()}) is the same as adjusted gross income`,
      (s) => `omits the standard deduction the ${s.filingStatus()} filer is entitled to`,
      () => `the standard deduction is missing from the return, so the tax owed is far too high`,
      () => `standard deduction not applied at all`
    ]
  },
  {
    name: "standard deduction wrong amount",
    infrastructure: false,
    meanScore: 0.45,
    phrasings: [
      (s) => `applied a standard deduction of ${s.money()} but the correct amount for ${s.filingStatus()} is ${s.money()}`,
      () => `used the single filer's standard deduction amount on a married filing jointly return`,
      (s) => `standard deduction amount is wrong: ${s.money()} instead of ${s.money()}`,
      (s) => `deduction was computed as ${s.money()}; for ${s.filingStatus()} the amount should have been ${s.money()}`,
      (s) => `The agent subtracted the wrong deduction amount, off by ${s.money()}`,
      (s) => `standard deduction amount doubled by mistake (${s.money()}) although the filer is single`,
      (s) => `incorrect standard deduction amount for filing status ${s.filingStatus()}`,
      (s) => `Deduction of ${s.money()} does not match the IRS amount for ${s.filingStatus()}`,
      (s) => `took a standard deduction amount that is too small for ${s.filingStatus()} (${s.money()} instead of ${s.money()})`,
      (s) => `wrong standard deduction: used the amount for ${s.filingStatus()}`
    ]
  },
  {
    name: "head of household misclassification",
    infrastructure: false,
    meanScore: 0.3,
    phrasings: [
      (s) => `classified the filer as head of household although the spouse lived with them during the last ${s.int(6, 12)} months of the year`,
      () => `The considered-unmarried test was applied incorrectly; the filer should be married filing separately`,
      () => `chose head of household, but the spouse lived in the home, so the status must be MFS`,
      () => `wrong filing status: HOH instead of married filing separately`,
      (s) => `agent ignored that the spouse was in the household in ${s.pick(["October", "November", "December"])}, which rules out head of household`,
      () => `filing status should be married filing separately; the taxpayer does not meet the considered unmarried rules`,
      () => `treated a married person living with their spouse as unmarried and filed as head of household`,
      () => `Head of household claimed without a qualifying person and while still married`,
      () => `an MFS taxpayer was put on the head-of-household path`,
      () => `the spouse lived in the home all year, so head of household is not allowed`
    ]
  },
  {
    name: "qualifying child age test",
    infrastructure: false,
    meanScore: 0.4,
    phrasings: [
      (s) => `claimed a ${s.int(19, 26)}-year-old son as a qualifying child although he is not a full-time student`,
      (s) => `child over the age limit (${s.int(20, 27)}) was counted as a qualifying child`,
      (s) => `The dependent fails the age test: ${s.int(19, 25)} years old and not a student`,
      (s) => `qualifying child rules misapplied: the daughter is ${s.int(19, 24)} and isn't a student`,
      (s) => `counted a nonstudent aged ${s.int(19, 30)} as a qualifying child for the child tax credit`,
      (s) => `age test for qualifying child ignored (dependent is ${s.int(20, 28)})`,
      (s) => `Agent treated an adult child, age ${s.int(19, 26)}, as a qualifying child without checking student status`,
      (s) => `dependent ${s.pick(["Maya", "Leo", "Sam", "Ana"])} is too old to be a qualifying child`,
      () => `the child is past the qualifying age and was still claimed as a dependent`,
      (s) => `a ${s.int(19, 23)} year old who is not in school cannot be a qualifying child`
    ]
  },
  {
    name: "fabricated form or publication",
    infrastructure: false,
    meanScore: 0.2,
    phrasings: [
      (s) => `cited ${s.pick(fakeForms)}, which does not exist`,
      (s) => `made up an IRS publication (${s.pick(fakePublications)}) that does not exist`,
      (s) => `The reference to "${s.pick(fakeForms)}" is fabricated; there is no such IRS form`,
      (s) => `invented a citation: IRS Notice ${s.int(2019, 2024)}-${s.int(10, 99)} is not a real notice`,
      (s) => `hallucinated a nonexistent form number, ${s.pick(fakeForms)}, in the filing instructions`,
      (s) => `cites ${s.pick(fakePublications)}, a fabricated IRS publication`,
      (s) => `nonexistent form ${s.pick(fakeForms)} recommended to the user`,
      (s) => `the agent fabricated a source (${s.pick(fakeForms)}) for its answer`,
      () => `points the user to an IRS form that does not exist`,
      (s) => `${s.pick(fakeForms)} is not a real IRS form`
    ]
  },
  {
    name: "asked again for information given",
    infrastructure: false,
    meanScore: 0.5,
    phrasings: [
      (s) => `asked for ${s.pick(askedAgain)} again even though the user gave it in turn ${s.int(1, 4)}`,
      () => `requested the filer's income a second time after it had already been provided`,
      () => `The agent asked again for the date of birth that was stated at the start`,
      (s) => `repeated a question the user already answered (${s.pick(askedAgain)})`,
      (s) => `forgot earlier context and asked again for ${s.pick(askedAgain)}`,
      (s) => `Prompted the user once more for ${s.pick(askedAgain)}, which was already in the first message`,
      (s) => `asks the user to re-enter ${s.pick(askedAgain)} that was already supplied ${s.int(2, 6)} turns earlier`,
      (s) => `redundant follow-up question: ${s.pick(askedAgain)} was already in the conversation`,
      () => `asked the user again for details they had already provided`,
      (s) => `asked twice for ${s.pick(askedAgain)}`
    ]
  },
  {
    name: "answer truncated",
    infrastructure: false,
    meanScore: 0.55,
    phrasings: [
      (s) => `response cut off mid-sentence at ${s.pick([256, 512, 1024])} tokens`,
      () => `The answer is truncated; the summary section never appears`,
      (s) => `output cut off after ${s.pick([512, 1024, 2048])} tokens, before the refund was given`,
      (s) => `incomplete response: hit max_tokens (${s.pick([800, 1024])}) and was truncated partway through the explanation`,
      () => `Final answer ends abruptly, cut off in the middle of the worksheet`,
      () => `the reply was truncated by the token limit and the conclusion is missing`,
      (s) => `ran out of output tokens (${s.pick([1024, 4096])}) before finishing the calculation`,
      (s) => `truncated at ${s.pick([300, 600])} tokens: the steps after line ${s.int(8, 20)} are not shown`,
      () => `answer cut short before the final total`,
      () => `the response hit the token limit and stops mid-sentence`
    ]
  },
  {
    name: "malformed structured output",
    infrastructure: false,
    meanScore: 0.25,
    phrasings: [
      (s) => `output is not valid JSON: unexpected token at position ${s.int(40, 900)}`,
      (s) => `The response failed schema validation, missing required field "${s.pick(jsonFields)}"`,
      () => `returned prose instead of the JSON object the schema asks for`,
      (s) => `JSON parse error: trailing comma after "${s.pick(jsonFields)}"`,
      (s) => `structured output malformed; "${s.pick(jsonFields)}" is a string where the schema requires a number`,
      () => `the agent wrapped the JSON in markdown fences, so parsing failed`,
      (s) => `could not parse the JSON answer: keys "${s.pick(jsonFields)}" and "${s.pick(jsonFields)}" are missing`,
      () => `Invalid JSON in the final message (unterminated string)`,
      () => `answer does not follow the required output schema`,
      () => `the JSON output does not validate against the schema`
    ]
  },
  {
    name: "prior-year tax brackets",
    infrastructure: false,
    meanScore: 0.4,
    phrasings: [
      (s) => `used the ${s.taxYear() - s.int(1, 3)} tax brackets for a ${s.taxYear()} return`,
      (s) => `bracket thresholds are from tax year ${s.int(2019, 2022)}, not ${s.int(2023, 2024)}`,
      (s) => `The agent applied last year's brackets; the ${s.taxYear()} inflation adjustments were ignored`,
      (s) => `outdated ${s.int(2018, 2022)} bracket tables were used to compute ${s.int(2023, 2024)} tax`,
      (s) => `tax computed with the prior-year rate schedule (${s.int(2019, 2022)}) instead of the current year's brackets`,
      (s) => `wrong tax year: rates and brackets from ${s.int(2018, 2022)}`,
      (s) => `Agent relied on ${s.int(2019, 2022)} bracket thresholds that have since been adjusted for inflation`,
      (s) => `the ${s.taxYear()} return was figured with stale ${s.int(2018, 2022)} bracket amounts`,
      () => `brackets are a year out of date`,
      (s) => `applied the tax rates of the previous year instead of ${s.taxYear()}`
    ]
  },
  {
    name: "arithmetic slip",
    infrastructure: false,
    meanScore: 0.45,
    phrasings: [
      (s) => `arithmetic error adding the W-2 wages: ${s.money()} + ${s.money()} is not ${s.money()}`,
      () => `arithmetic mistake when summing the income lines`,
      () => `The total income figure is off because of a simple addition error`,
      (s) => `miscalculated the sum of the two W-2s (should be ${s.money()})`,
      (s) => `basic math error: the line ${s.int(1, 15)} total does not equal the sum of its parts`,
      () => `the income numbers don't add up: a calculation error`,
      (s) => `subtraction error: the refund is ${s.money()} but withholding minus tax is ${s.money()}`,
      (s) => `the running total drifted by ${s.money()} through a calculation slip`,
      () => `sums on the worksheet are miscalculated`,
      () => `simple arithmetic error in the totals`
    ]
  }
]

/** Pairs of cause names whose explanations share most words but name different root causes. */
export const nearMissPairs: ReadonlyArray<readonly [string, string]> = [
  ["lookup tool timeout", "lookup tool rate limit"],
  ["standard deduction missing", "standard deduction wrong amount"],
  ["answer truncated", "malformed structured output"]
]

const tools = ["tax_lookup", "tax_lookup", "fetch_irs_data", "LedgerClient", "pub501-search"]
const statuses = ["single", "married filing jointly", "MFJ", "joint filers", "a single filer", "qualifying surviving spouse"]
const agents = ["preparer", "reviewer", "intake", "Preparer agent", "Reviewer (judge)"]

const hex = (random: SeededRandom, length: number) => Array.from({ length }, () => "0123456789abcdef"[random.nextInt(16)]).join("")
const base36 = (random: SeededRandom, length: number) =>
  Array.from({ length }, () => "0123456789abcdefghijklmnopqrstuvwxyz"[random.nextInt(36)]).join("")

const slotsOf = (random: SeededRandom): JudgeSlots => {
  const int = (low: number, high: number) => low + random.nextInt(high - low + 1)
  const pick = <A>(values: ReadonlyArray<A>): A => values[random.nextInt(values.length)]
  return {
    int,
    pick,
    money: () => {
      const dollars = int(1, 40) * 1000 + int(0, 19) * 50
      return pick([
        `$${dollars.toLocaleString("en-US")}`,
        `$${dollars}`,
        `${dollars.toLocaleString("en-US")} USD`,
        `$${dollars.toLocaleString("en-US")}.00`
      ])
    },
    tool: () => pick(tools),
    taxYear: () => int(2023, 2024),
    filingStatus: () => pick(statuses)
  }
}

/** Judge noise before the sentence: positions, ids, agent names. */
const prefixes: ReadonlyArray<(random: SeededRandom) => string> = [
  () => "",
  () => "",
  () => "",
  (r) => `step ${1 + r.nextInt(12)}: `,
  (r) => `Step ${1 + r.nextInt(12)} - `,
  (r) => `[run ${hex(r, 8)}] `,
  (r) => `run ${hex(r, 8)}-${hex(r, 4)}-4${hex(r, 3)}-a${hex(r, 3)}-${hex(r, 12)}: `,
  (r) => `turn ${1 + r.nextInt(8)}: `,
  (r) => `(trace ${hex(r, 16)}) `,
  (r) => `${agents[r.nextInt(agents.length)]}: `,
  (r) => `after calling ${tools[r.nextInt(tools.length)]}, `
]

/** Judge noise after the sentence: latencies, scores, ids. */
const suffixes: ReadonlyArray<(random: SeededRandom) => string> = [
  () => "",
  () => "",
  () => "",
  () => ".",
  (r) => ` (run took ${(1 + r.nextInt(400) / 10).toFixed(1)}s)`,
  (r) => ` [latency ${50 + r.nextInt(3000)}ms]`,
  (r) => ` - run r_${base36(r, 6)}`,
  (r) => `. Score: ${1 + r.nextInt(2)}/5.`,
  (r) => ` (attempt ${1 + r.nextInt(3)} of 3)`,
  (r) => `. See trace ${hex(r, 12)}.`
]

const casing = (random: SeededRandom, text: string): string => {
  const roll = random.nextInt(6)
  if (roll === 0) return text.toLowerCase()
  if (roll <= 2) return text.charAt(0).toUpperCase() + text.slice(1)
  return text
}

export interface ParaphraseCorpus {
  readonly texts: ReadonlyArray<string>
  /** Root cause index of each text (into `causes`). */
  readonly labels: Int32Array
  /** Phrasing index of each text within its cause. */
  readonly phrasings: Int32Array
  /** Rubric score of each text, in [0, 1]. */
  readonly scores: Float64Array
  readonly causes: ReadonlyArray<ParaphraseCause>
  /** Near-miss pairs as cause indices. */
  readonly nearMisses: ReadonlyArray<readonly [number, number]>
}

/**
 * n explanations over the first `causes` root causes (default all twelve): causes round robin and
 * each cause's phrasings round robin (so every phrasing appears once n ≥ 10 × causes), then shuffled;
 * slots and judge noise drawn from the seed. Deterministic for a seed.
 */
export const paraphraseCorpus = (options: { readonly n: number; readonly seed: number; readonly causes?: number }): ParaphraseCorpus => {
  const random = makeSeededRandom(options.seed)
  const causes = paraphraseCauses.slice(0, Math.max(1, Math.min(options.causes ?? paraphraseCauses.length, paraphraseCauses.length)))
  const n = Math.max(0, Math.floor(options.n))
  const labels = new Int32Array(n)
  const phrasings = new Int32Array(n)
  const used = new Int32Array(causes.length)
  // Each cause starts its phrasing cycle at a seeded offset, so small corpora differ by seed.
  const offsets = causes.map((cause) => random.nextInt(cause.phrasings.length))
  for (let i = 0; i < n; i++) {
    const cause = i % causes.length
    labels[i] = cause
    phrasings[i] = (offsets[cause] + used[cause]++) % causes[cause].phrasings.length
  }
  for (let i = n - 1; i > 0; i--) {
    const j = random.nextInt(i + 1)
    ;[labels[i], labels[j]] = [labels[j], labels[i]]
    ;[phrasings[i], phrasings[j]] = [phrasings[j], phrasings[i]]
  }
  const slots = slotsOf(random)
  const texts: Array<string> = []
  const scores = new Float64Array(n)
  for (let i = 0; i < n; i++) {
    const cause = causes[labels[i]]
    const body = casing(random, cause.phrasings[phrasings[i]](slots))
    const prefix = prefixes[random.nextInt(prefixes.length)](random)
    const suffix = suffixes[random.nextInt(suffixes.length)](random)
    // A prefix that leads into the sentence ("after calling tax_lookup, ") lower-cases its first letter.
    const lead = prefix.endsWith(", ") ? body.charAt(0).toLowerCase() + body.slice(1) : body
    texts.push(`${prefix}${suffix === "" ? lead : lead.replace(/\.$/u, "")}${suffix}`)
    scores[i] = Math.min(1, Math.max(0, cause.meanScore + 0.08 * random.nextGaussian()))
  }
  const index = new Map(causes.map((cause, i) => [cause.name, i]))
  const nearMisses = nearMissPairs.flatMap(([a, b]) => {
    const ia = index.get(a)
    const ib = index.get(b)
    return ia === undefined || ib === undefined ? [] : [[ia, ib] as const]
  })
  return { texts, labels, phrasings, scores, causes, nearMisses }
}
