/**
 * The simulated model's tax skills: an intake reader, a filing-status advisor and a judge. Each
 * is deterministic for its random stream. The advisor has realistic blind spots that depend on the
 * prompt (it misses the considered-unmarried test, the qualifying-surviving-spouse status, the
 * dependent-parent exception, the additional deduction for age or blindness and the dependent's
 * limit, unless guidance or examples in its prompt cover them; chain of thought helps; a high
 * temperature makes it misread and fabricate). The judge knows the rules well and explains
 * failures in words, naming the deciding facts — what failure clustering and guidance feed on.
 * The 2025 amounts (standard deductions, additional amounts, the dependent's limit) are the tax
 * world's tables in `@spectral/worlds`; the blind spots are this module's own.
 */
import type { SeededGenerator } from "@spectral/engine"
import {
  ADDITIONAL_STANDARD_DEDUCTION_2025,
  DEPENDENT_STANDARD_DEDUCTION_2025,
  STANDARD_DEDUCTION_2025,
  TAX_YEAR
} from "@spectral/worlds"
import { type ReadFacts, readScenario } from "./TaxReading.ts"

/** The skills' dice: the engine's seeded generator. */
export type Random = Pick<SeededGenerator, "next">

export interface PromptFeatures {
  /** Lower-cased system prompt (base prompt, guidance, reasoning instruction). */
  readonly system: string
  /** Lower-cased few-shot examples block. */
  readonly examples: string
  readonly chainOfThought: "none" | "brief" | "full"
  readonly temperature: number
}

export type Status = "single" | "mfj" | "mfs" | "hoh" | "qss"

const isChild = (r: ReadFacts["qualifyingPersonRelationship"]) => r === "child" || r === "stepchild" || r === "foster_child"

export type Path = "joint" | "considered_unmarried" | "mfs" | "qss" | "hoh_child" | "hoh_parent" | "hoh_relative" | "single"

/** The full rules as the judge (a strong model) knows them. */
export const correctStatus = (f: ReadFacts): { status: Status; path: Path } => {
  const marriedThisYear = f.maritalStatus === "married" || (f.maritalStatus === "widowed" && f.spouseDiedYear === TAX_YEAR)
  if (marriedThisYear) {
    if (f.wantsJointReturn) return { status: "mfj", path: "joint" }
    if (f.maritalStatus === "married" && !f.spouseLivedInHomeLast6Months && f.paidOverHalfHomeCost && isChild(f.qualifyingPersonRelationship) && f.qualifyingPersonMonths > 6 && f.qualifyingPersonIsDependent) {
      return { status: "hoh", path: "considered_unmarried" }
    }
    return { status: "mfs", path: "mfs" }
  }
  if (f.maritalStatus === "widowed" && f.spouseDiedYear !== undefined && f.spouseDiedYear >= TAX_YEAR - 2 && !f.remarried &&
    isChild(f.qualifyingPersonRelationship) && f.qualifyingPersonMonths >= 12 && f.qualifyingPersonIsDependent && f.paidOverHalfHomeCost) {
    return { status: "qss", path: "qss" }
  }
  if (f.paidOverHalfHomeCost && !f.canBeClaimedAsDependent) {
    if (isChild(f.qualifyingPersonRelationship) && f.qualifyingPersonMonths > 6) return { status: "hoh", path: "hoh_child" }
    if (f.qualifyingPersonRelationship === "parent" && f.qualifyingPersonIsDependent) return { status: "hoh", path: "hoh_parent" }
    if (f.qualifyingPersonRelationship === "other_relative" && f.qualifyingPersonMonths > 6 && f.qualifyingPersonIsDependent) return { status: "hoh", path: "hoh_relative" }
  }
  return { status: "single", path: "single" }
}

export const additionalCount = (f: ReadFacts, status: Status): number => {
  let n = (f.age65OrOlder ? 1 : 0) + (f.blind ? 1 : 0)
  if (status === "mfj" || (status === "mfs" && f.spouseHadNoGrossIncome)) n += (f.spouseAge65OrOlder ? 1 : 0) + (f.spouseBlind ? 1 : 0)
  return n
}

export const additionalAmount = (status: Status) =>
  status === "single" || status === "hoh" ? ADDITIONAL_STANDARD_DEDUCTION_2025.unmarried : ADDITIONAL_STANDARD_DEDUCTION_2025.married

const { minimum: dependentMinimum, earnedIncomePlus } = DEPENDENT_STANDARD_DEDUCTION_2025
const usd = (amount: number) => `$${amount.toLocaleString("en-US")}`
/** The dependent's minimum as a prompt may write it, with or without the thousands comma (`1,?350`). */
const dependentMinimumPattern = new RegExp(String(dependentMinimum).replace(/\B(?=(\d{3})+(?!\d))/g, ",?"))

export const standardDeduction = (f: ReadFacts, status: Status, knows: { additional: boolean; dependentLimit: boolean } = { additional: true, dependentLimit: true }): number => {
  if (status === "mfs" && f.spouseItemizes) return 0
  let base = STANDARD_DEDUCTION_2025[status]
  if (f.canBeClaimedAsDependent && knows.dependentLimit) base = Math.min(base, Math.max(dependentMinimum, (f.earnedIncome ?? 0) + earnedIncomePlus))
  return base + (knows.additional ? additionalCount(f, status) * additionalAmount(status) : 0)
}

const matchesAny = (text: string, patterns: ReadonlyArray<RegExp>) => patterns.some((re) => re.test(text))

/**
 * Per system prompt (the same string for every stimulus of a configuration) and pattern set: whether
 * the prompt teaches it. Bounded like the other readings; the examples are tested as they come.
 */
const systemTeaches = new Map<string, Map<ReadonlyArray<RegExp>, boolean>>()
const SYSTEM_TEACHES_CAPACITY = 1024

const knows = (p: PromptFeatures, patterns: ReadonlyArray<RegExp>) => {
  let bySet = systemTeaches.get(p.system)
  if (bySet === undefined) {
    if (systemTeaches.size >= SYSTEM_TEACHES_CAPACITY) systemTeaches.delete(systemTeaches.keys().next().value!)
    systemTeaches.set(p.system, bySet = new Map())
  }
  let inSystem = bySet.get(patterns)
  if (inSystem === undefined) bySet.set(patterns, inSystem = matchesAny(p.system, patterns))
  return inSystem || matchesAny(p.examples, patterns)
}

/** What each blind spot's guidance looks like (one array per blind spot: the memo above keys on it). */
const teaches = {
  consideredUnmarried: [/considered unmarried/, /last 6 months/, /moved out.*"hoh"/s],
  survivingSpouse: [/surviving spouse/, /"qss"/],
  dependentParent: [/parent.*head of household|head of household.*parent/s, /dependent-parent/, /(mother|dad).*"hoh"/s],
  additional: [/additional/, /65 or older/, /\bblind/],
  dependentLimit: [dependentMinimumPattern, /earned income plus/, /dependent'?s? (standard )?deduction/]
} as const satisfies Record<string, ReadonlyArray<RegExp>>

const cotFactor = (p: PromptFeatures) => (p.chainOfThought === "full" ? 0.55 : p.chainOfThought === "brief" ? 0.85 : 1)

/** Intake: read the facts, with misreadings on ambiguous phrasings and at high temperature. */
export const intake = (stimulus: string, p: PromptFeatures, rng: Random): { facts: Record<string, unknown>; fabricated: boolean } => {
  const reading = readScenario(stimulus)
  const facts: Record<string, unknown> = { ...reading.facts }
  const heat = Math.max(0, p.temperature - 0.7)
  for (const key of reading.ambiguous) {
    if (rng.next() < (0.3 + heat * 0.3) * cotFactor(p)) {
      const v = facts[key]
      facts[key] = typeof v === "boolean" ? !v : typeof v === "number" ? (v === 12 ? 6 : 12) : v === "divorced" ? "married" : v
    }
  }
  for (const key of ["paidOverHalfHomeCost", "qualifyingPersonIsDependent", "age65OrOlder"] as const) {
    if (rng.next() < heat * 0.08) facts[key] = !facts[key]
  }
  let fabricated = false
  if (facts["qualifyingPersonRelationship"] === "none" && rng.next() < heat * 0.35) {
    facts["qualifyingPersonRelationship"] = "child"
    facts["qualifyingPersonMonths"] = 12
    facts["qualifyingPersonIsDependent"] = true
    fabricated = true
  }
  return { facts, fabricated }
}

const toFacts = (raw: Record<string, unknown>): ReadFacts => ({
  taxYear: typeof raw["taxYear"] === "number" ? raw["taxYear"] : TAX_YEAR,
  maritalStatus: (raw["maritalStatus"] as ReadFacts["maritalStatus"]) ?? "single",
  ...(typeof raw["spouseDiedYear"] === "number" ? { spouseDiedYear: raw["spouseDiedYear"] } : {}),
  remarried: raw["remarried"] === true,
  wantsJointReturn: raw["wantsJointReturn"] === true,
  spouseLivedInHomeLast6Months: raw["spouseLivedInHomeLast6Months"] === true,
  paidOverHalfHomeCost: raw["paidOverHalfHomeCost"] === true,
  qualifyingPersonRelationship: (raw["qualifyingPersonRelationship"] as ReadFacts["qualifyingPersonRelationship"]) ?? "none",
  qualifyingPersonMonths: typeof raw["qualifyingPersonMonths"] === "number" ? raw["qualifyingPersonMonths"] : 0,
  qualifyingPersonIsDependent: raw["qualifyingPersonIsDependent"] === true,
  age65OrOlder: raw["age65OrOlder"] === true,
  blind: raw["blind"] === true,
  spouseAge65OrOlder: raw["spouseAge65OrOlder"] === true,
  spouseBlind: raw["spouseBlind"] === true,
  canBeClaimedAsDependent: raw["canBeClaimedAsDependent"] === true,
  ...(typeof raw["earnedIncome"] === "number" ? { earnedIncome: raw["earnedIncome"] } : {}),
  spouseItemizes: raw["spouseItemizes"] === true,
  spouseHadNoGrossIncome: raw["spouseHadNoGrossIncome"] === true
})

const RELATIVES = ["mother", "brother", "grandson", "aunt"]

/** Advisor: decide status and deduction from the facts it is given (or reads itself). */
export const advise = (factsIn: Record<string, unknown> | undefined, stimulus: string, p: PromptFeatures, rng: Random) => {
  const facts = factsIn === undefined ? readScenario(stimulus).facts : toFacts(factsIn)
  const truth = correctStatus(facts)
  const cot = cotFactor(p)
  let status = truth.status
  const miss = (base: number, known: boolean) => rng.next() < (known ? 0.07 : base) * cot
  switch (truth.path) {
    case "considered_unmarried":
      if (miss(0.8, knows(p, teaches.consideredUnmarried))) status = "mfs"
      break
    case "qss":
      if (miss(0.65, knows(p, teaches.survivingSpouse))) status = "hoh"
      break
    case "hoh_parent":
      if (miss(0.6, knows(p, teaches.dependentParent))) status = "single"
      break
    default:
      if (rng.next() < 0.03 * cot) status = truth.status === "hoh" ? "single" : truth.status
  }
  const heat = Math.max(0, p.temperature - 0.5)
  let fabricatedRelative: string | undefined
  if (rng.next() < heat * 0.3) {
    fabricatedRelative = RELATIVES[Math.floor(rng.next() * RELATIVES.length)]
    status = status === "hoh" ? "single" : "hoh"
  }
  const knowsAdditional = !miss(0.4, knows(p, teaches.additional))
  const knowsLimit = !miss(0.55, knows(p, teaches.dependentLimit))
  const deduction = standardDeduction(facts, status, { additional: knowsAdditional, dependentLimit: knowsLimit })
  const rationale = fabricatedRelative !== undefined
    ? `Based on the facts, and since the taxpayer's ${fabricatedRelative} also lives in the home, the status is ${status}.`
    : `Marital status ${facts.maritalStatus}; qualifying person ${facts.qualifyingPersonRelationship}; status ${status}.`
  return { filingStatus: status, standardDeduction: deduction, rationale }
}

const statusName: Readonly<Record<string, string>> = {
  single: "single",
  mfj: "married filing jointly",
  mfs: "married filing separately",
  hoh: "head of household",
  qss: "qualifying surviving spouse"
}

/** Judge: score the answer on the rubric's dimensions and explain the main problem. */
export const judge = (stimulus: string, answer: Record<string, unknown>, dimensionIds: ReadonlyArray<string>, rng: Random) => {
  const facts = readScenario(stimulus).facts
  const truth = correctStatus(facts)
  const status = String(answer["filingStatus"] ?? "").toLowerCase()
  const deduction = Number(answer["standardDeduction"])
  const expectedDeduction = standardDeduction(facts, truth.status)
  const statusOk = status === truth.status
  const consistentDeduction = standardDeduction(facts, (statusName[status] ? status : truth.status) as Status)
  const deductionOk = statusOk ? deduction === expectedDeduction : deduction === consistentDeduction
  const rationale = String(answer["rationale"] ?? "").toLowerCase()
  const fabricated = /also lives in the home/.test(rationale) && !RELATIVES.some((r) => rationale.includes(r) && stimulus.toLowerCase().includes(r))
  let explanation: string
  if (fabricated) {
    const who = RELATIVES.find((r) => rationale.includes(r)) ?? "relative"
    explanation = `The answer relies on a fact not stated in the input: it claims the taxpayer's ${who} lives in the home, which was fabricated, and answers ${statusName[status] ?? status}.`
  } else if (!statusOk) {
    const was = statusName[status] ?? (status || "no status")
    switch (truth.path) {
      case "considered_unmarried":
        explanation = `Answered ${was}, but the taxpayer is considered unmarried: the spouse did not live in the home during the last 6 months of the year, the taxpayer paid more than half the cost of keeping up the home and a qualifying child lived there more than half the year, so head of household applies.`
        break
      case "qss":
        explanation = `Answered ${was}, but qualifying surviving spouse applies: the spouse died in ${facts.spouseDiedYear}, within the two prior years, the taxpayer has not remarried and a dependent child lived in the home all year.`
        break
      case "hoh_parent":
        explanation = `Answered ${was}, but head of household applies through the dependent-parent exception: the taxpayer pays more than half the cost of the parent's home and can claim the parent as a dependent, even though the parent does not live with the taxpayer.`
        break
      default:
        explanation = `Answered ${was} where ${statusName[truth.status]} applies from the stated facts.`
    }
  } else if (!deductionOk) {
    const extra = additionalCount(facts, truth.status)
    if (facts.canBeClaimedAsDependent && deduction > expectedDeduction) {
      explanation = `Standard deduction of $${deduction} ignores the dependent limit: someone who can be claimed as a dependent gets the greater of ${usd(dependentMinimum)} or earned income plus ${usd(earnedIncomePlus)} (here $${expectedDeduction}).`
    } else if (extra > 0 && deduction < expectedDeduction) {
      explanation = `Standard deduction of $${deduction} leaves out the additional amount for age 65 or older or blindness: ${extra} × $${additionalAmount(truth.status)} should be added (expected $${expectedDeduction}).`
    } else {
      explanation = `Standard deduction of $${deduction} is wrong for ${statusName[truth.status]}; expected $${expectedDeduction}.`
    }
  } else {
    explanation = `The filing status (${statusName[truth.status]}) and the standard deduction ($${expectedDeduction}) follow from the stated facts.`
  }
  // A judge is not infallible: a small share of its scores are lenient.
  const lenient = rng.next() < 0.03
  const scores: Record<string, number> = {}
  for (const id of dimensionIds) {
    const key = id.toLowerCase()
    scores[id] = key.includes("status")
      ? (statusOk || lenient ? 1 : 0)
      : key.includes("deduction")
      ? (deductionOk || lenient ? 1 : statusOk ? 0.3 : 0)
      : key.includes("ground")
      ? (fabricated ? 0 : 1)
      : (statusOk && deductionOk && !fabricated ? 1 : statusOk ? 0.6 : 0.1)
  }
  return { scores, explanation }
}
