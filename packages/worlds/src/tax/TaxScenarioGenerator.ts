/**
 * Natural-language taxpayer scenarios for `us-federal-individual-tax`, generated from parameter
 * grids per household segment; ground truth comes from the published rules (`decideTaxFacts`), so
 * the text, the facts and the expected answer cannot drift apart. Deterministic for a seed.
 *
 * For whoever writes a simulated intake model: every fact is recoverable from the text by a
 * careful reader. The phrasings used (placeholders in braces; `{Month}` is a month name):
 *
 * Marital status (maritalStatus)
 *   single:            "I've never been married." | "I'm single." | "I'm not married and never have been."
 *   divorced:          "I got divorced in {year}." | "My divorce was finalized in {Month} {year}." |
 *                      (high ambiguity) "My divorce was finalized on December 30, 2025."
 *   legally_separated: "My husband and I are legally separated under a separate maintenance decree from the court."
 *   married:           "I'm married; my {wife|husband} and I live together." | "My {wife|husband} and I have been married for {n} years." |
 *                      "I'm still legally married, but my {husband|wife} moved out in {Month}." (living apart)
 *   remarried:         "My first {husband|wife} died in {year}, and I remarried in {Month} {year}."
 *   widowed:           "My {husband|wife} passed away in {Month} {year}." | "I lost my {wife|husband} in {year}." |
 *                      "I've been a widow(er) since {year}."  (spouseDiedYear = that year; 2025 means this year)
 * Joint or separate (wantsJointReturn, married only; always stated)
 *   true:  "We file jointly." | "We plan to file a joint return." | "We always file together." |
 *          (widowed this year) "I'm filing a joint return for both of us for this last year."
 *   false: "We've decided to file separate returns." | "We're filing separately this year." | "I'm filing my own separate return."
 * Spouse in the home during the last 6 months (spouseLivedInHomeLast6Months)
 *   "... moved out in {Month}" — January..June => false, July..December => true;
 *   "... moved out last spring" (false); "... moved out right after Labor Day" (true); living together => true.
 * Spouse itemizes (spouseItemizes): "My {husband|wife} is itemizing deductions on {his|her} own return." (absent => false)
 * Spouse with no income (spouseHadNoGrossIncome): "My {wife|husband} had no income at all this year and isn't filing a return."
 * Home costs (paidOverHalfHomeCost)
 *   true:  "I paid most of the rent." | "I cover more than half of the household costs — rent, utilities, groceries." |
 *          "I pay the mortgage and almost all the bills." | (high) "I cover about 60% of what it costs to run the house."
 *   false: "My roommate and I split the rent evenly." | "My sister pays most of the costs of the home we share." |
 *          "My brother covers most of the rent for the place we share." | (high) "We split the household bills roughly 50/50."
 *   parent's home: "I pay more than half the cost of {her|his} apartment." / "{She|He} covers {her|his} own rent."
 * Qualifying person (qualifyingPersonRelationship / qualifyingPersonMonths / qualifyingPersonIsDependent)
 *   child | stepchild | foster child: "my {son|daughter|stepson|stepdaughter|foster son (placed with me by the county)}"
 *   months: "lived with me all year" (12) | "moved in with me in {Month}" (12 - month index, January = 0) |
 *           "lived with me for {n} months" | (high) "lived with me from January through June, then moved to {his|her} dad's" (6) |
 *           (high) "was away at college from September to December, but {her|his} home is with me" (12: temporary absence)
 *   dependent: "I claim {him|her} as my dependent." | "{He|She}'s my dependent." ;
 *   not dependent: "{His|Her} other parent claims {him|her} as a dependent this year."
 *   (the dependency sentence always directly follows the sentence naming the child)
 *   parent: "My mother, who I support, lives with me." | "I support my dad, who lives in his own apartment across town,
 *           and I claim him as my dependent." | not dependent: "My mother lives with me, but she has her own pension and
 *           I can't claim her as a dependent."
 *   other relative: "My nephew lived with me for {n} months and I claim him as my dependent."
 * Age and sight (age65OrOlder, blind, spouseAge65OrOlder, spouseBlind)
 *   "I'm {age}." | "I turn {age} this year." | "I'm retired and {age}." | (high) "I was born in {year}" (only years <= 1959 or >= 1962) ;
 *   "My {wife|husband} is {age}." ; "I'm legally blind." | "My eye doctor certified me as legally blind." ; "My {wife|husband} is legally blind."
 * Dependent of someone else (canBeClaimedAsDependent, earnedIncome)
 *   "My parents claim me as a dependent." | "My parents can still claim me on their return." ;
 *   "I earned ${amount} from a part-time job." | "I made ${amount} waiting tables this summer." | "I had no job this year." (0)
 * Irrelevant details (no bearing on the answer): occupation, state, pets, a car purchase, a raise, a savings account, a move.
 *
 * Intermediate facts (key `facts`, flat values) always carry: taxYear, maritalStatus, remarried, wantsJointReturn,
 * spouseLivedInHomeLast6Months, paidOverHalfHomeCost, qualifyingPersonRelationship ("none" when there is none),
 * qualifyingPersonMonths, qualifyingPersonIsDependent, age65OrOlder, blind, spouseAge65OrOlder, spouseBlind,
 * canBeClaimedAsDependent, spouseItemizes, spouseHadNoGrossIncome; and, when stated, spouseDiedYear and earnedIncome.
 * Expected: { filingStatus: "single"|"mfj"|"mfs"|"hoh"|"qss", standardDeduction: number }.
 */
import type { GroundTruthValue } from "@spectral/engine/contracts"
import type { GeneratedStimulus, ScenarioGenerator } from "../EvalSetGeneration.ts"
import { type SeededRandom, seededRandom } from "../SeededRandom.ts"
import type { PublishedWorldModel } from "../WorldModel.ts"
import { decideTaxFacts, flattenTaxFacts, TAX_WORLD_ID, TAX_YEAR, type TaxFacts } from "./TaxWorld.ts"

const MONTHS = ["January", "February", "March", "April", "May", "June", "July", "August", "September", "October", "November", "December"]

export const TAX_SEGMENT_WEIGHTS: Readonly<Record<string, number>> = {
  single_filer: 1,
  divorced_or_separated: 1,
  married_together: 1,
  married_separate_returns: 1.2,
  married_living_apart: 2,
  single_parent: 1.2,
  supports_parent: 1.6,
  recently_widowed: 1.6,
  widowed_with_child: 2,
  dependent_earner: 1.5
}

interface Draft {
  facts: Mutable<TaxFacts>
  readonly clauses: Array<string>
  qualifying: "none" | "child" | "parent" | "relative"
}
type Mutable<T> = { -readonly [K in keyof T]: T[K] }

interface Person {
  readonly noun: string
  readonly he: string
  readonly him: string
  readonly his: string
}
const SPOUSES: ReadonlyArray<Person> = [
  { noun: "wife", he: "she", him: "her", his: "her" },
  { noun: "husband", he: "he", him: "him", his: "his" }
]
const cap = (s: string) => s.charAt(0).toUpperCase() + s.slice(1)

const ageClause = (rng: SeededRandom, old: boolean, high: boolean): string => {
  const age = old ? rng.between(65, 82) : rng.between(24, 63)
  if (high) {
    const born = old ? rng.between(1943, 1959) : rng.between(1962, 2001)
    return `I was born in ${born}.`
  }
  return rng.pick(old ? [`I turn ${age} this year.`, `I'm ${age}.`, `I'm retired and ${age}.`] : [`I'm ${age}.`, `I turned ${age} in ${rng.pick(MONTHS)}.`])
}

const homeCostClause = (rng: SeededRandom, paid: boolean, high: boolean): string =>
  paid
    ? (high ? "I cover about 60% of what it costs to run the house." : rng.pick(["I paid most of the rent.", "I cover more than half of the household costs — rent, utilities, groceries.", "I pay the mortgage and almost all the bills."]))
    : (high ? "We split the household bills roughly 50/50." : rng.pick(["My roommate and I split the rent evenly.", "My sister pays most of the costs of the home we share.", "My brother covers most of the rent for the place we share."]))

const childNoun = (rng: SeededRandom, relationship: "child" | "stepchild" | "foster_child"): Person => {
  const boy = rng.chance(0.5)
  const base = boy ? { he: "he", him: "him", his: "his" } : { he: "she", him: "her", his: "her" }
  const noun = relationship === "child" ? (boy ? "son" : "daughter") : relationship === "stepchild" ? (boy ? "stepson" : "stepdaughter") : (boy ? "foster son, placed with me by the county," : "foster daughter, placed with me by the county,")
  return { noun, ...base }
}

/** A child clause; returns the months the text implies. */
const childClauses = (rng: SeededRandom, draft: Draft, relationship: "child" | "stepchild" | "foster_child", months: number, dependent: boolean, high: boolean): void => {
  const child = childNoun(rng, relationship)
  const age = rng.between(3, 16)
  let text: string
  if (months === 12 && high && relationship === "child") {
    text = `My ${child.noun} was away at college from September to December, but ${child.his} home is with me.`
  } else if (months === 6 && high) {
    text = `My ${child.noun} lived with me from January through June, then moved to ${child.his} other parent's place.`
  } else if (months === 12) {
    text = rng.pick([`My ${child.noun} (${age}) lived with me all year.`, `My ${child.noun}, who is ${age}, lives with me full time.`])
  } else {
    text = rng.chance(0.5) && months <= 11 && months >= 1
      ? `My ${child.noun} moved in with me in ${MONTHS[12 - months]}.`
      : `My ${child.noun} lived with me for ${months} months of the year.`
  }
  const dependency = dependent
    ? rng.pick([`I claim ${child.him} as my dependent.`, `${cap(child.he)}'s my dependent.`])
    : `${cap(child.his)} other parent claims ${child.him} as a dependent this year.`
  draft.clauses.push(`${text} ${dependency}`)
  draft.facts.qualifyingPerson = { relationship, monthsLivedInHome: months, isDependent: dependent }
  draft.qualifying = "child"
}

const spouseAgeClauses = (rng: SeededRandom, draft: Draft, spouse: Person, old: boolean, blind: boolean): void => {
  if (old || rng.chance(0.4)) draft.clauses.push(`My ${spouse.noun} is ${old ? rng.between(65, 80) : rng.between(28, 63)}.`)
  if (blind) draft.clauses.push(`My ${spouse.noun} is legally blind.`)
  draft.facts.spouseAge65OrOlder = old
  draft.facts.spouseBlind = blind
}

const jointClause = (rng: SeededRandom, joint: boolean): string =>
  joint ? rng.pick(["We file jointly.", "We plan to file a joint return.", "We always file together."]) : rng.pick(["We've decided to file separate returns.", "We're filing separately this year.", "I'm filing my own separate return."])

type SegmentBuilder = (rng: SeededRandom, draft: Draft, high: boolean) => void

const SEGMENTS: Readonly<Record<string, SegmentBuilder>> = {
  single_filer: (rng, draft) => {
    draft.clauses.push(rng.pick(["I've never been married.", "I'm single.", "I'm not married and never have been."]))
    draft.clauses.push(rng.pick(["I live alone.", "My roommate and I split the rent evenly.", "I rent a studio apartment by myself."]))
  },
  divorced_or_separated: (rng, draft, high) => {
    if (rng.chance(0.3)) {
      draft.facts.maritalStatus = "legally_separated"
      draft.clauses.push(`My ${rng.pick(SPOUSES).noun} and I are legally separated under a separate maintenance decree from the court.`)
    } else {
      draft.facts.maritalStatus = "divorced"
      draft.clauses.push(high ? "My divorce was finalized on December 30, 2025." : rng.pick([`I got divorced in ${rng.between(2015, 2024)}.`, `My divorce was finalized in ${rng.pick(MONTHS)} ${rng.between(2019, 2025)}.`]))
    }
    draft.clauses.push("I don't have any kids, and I live by myself.")
  },
  married_together: (rng, draft) => {
    const spouse = rng.pick(SPOUSES)
    draft.facts.maritalStatus = "married"
    draft.facts.spouseLivedInHomeLast6Months = true
    if (rng.chance(0.15)) {
      draft.facts.spouseDiedYear = rng.between(2018, 2024)
      draft.facts.remarried = true
      draft.clauses.push(`My first ${rng.pick(SPOUSES).noun} died in ${draft.facts.spouseDiedYear}, and I remarried in ${rng.pick(MONTHS)} ${TAX_YEAR}.`)
      draft.clauses.push(`My new ${spouse.noun} and I live together.`)
    } else {
      draft.clauses.push(rng.pick([`I'm married; my ${spouse.noun} and I live together.`, `My ${spouse.noun} and I have been married for ${rng.between(2, 40)} years.`]))
    }
    draft.facts.wantsJointReturn = true
    draft.clauses.push(jointClause(rng, true))
    spouseAgeClauses(rng, draft, spouse, rng.chance(0.3), rng.chance(0.1))
  },
  married_separate_returns: (rng, draft) => {
    const spouse = rng.pick(SPOUSES)
    draft.facts.maritalStatus = "married"
    draft.facts.spouseLivedInHomeLast6Months = true
    draft.facts.wantsJointReturn = false
    draft.clauses.push(`I'm married; my ${spouse.noun} and I live together.`)
    draft.clauses.push(jointClause(rng, false))
    const itemizes = rng.chance(0.4)
    draft.facts.spouseItemizes = itemizes
    if (itemizes) draft.clauses.push(`My ${spouse.noun} is itemizing deductions on ${spouse.his} own return.`)
    const old = rng.chance(0.35)
    spouseAgeClauses(rng, draft, spouse, old, false)
    const noIncome = old && !itemizes && rng.chance(0.6)
    draft.facts.spouseHadNoGrossIncome = noIncome
    if (noIncome) draft.clauses.push(`My ${spouse.noun} had no income at all this year and isn't filing a return.`)
  },
  married_living_apart: (rng, draft, high) => {
    const spouse = rng.pick(SPOUSES)
    draft.facts.maritalStatus = "married"
    const movedOut = rng.pick([1, 2, 3, 4, 5, 6, 7, 8, 9, 10])
    const inLastSix = movedOut >= 7
    draft.facts.spouseLivedInHomeLast6Months = inLastSix
    draft.clauses.push(high
      ? (inLastSix ? `We're still legally married, but my ${spouse.noun} moved out right after Labor Day.` : `We're still legally married, but my ${spouse.noun} moved out last spring.`)
      : rng.pick([`I'm married but my ${spouse.noun} moved out in ${MONTHS[movedOut - 1]}.`, `I'm still legally married, but my ${spouse.noun} moved out in ${MONTHS[movedOut - 1]} and we live apart now.`]))
    if (high) draft.facts.spouseLivedInHomeLast6Months = inLastSix
    draft.facts.wantsJointReturn = false
    draft.clauses.push(jointClause(rng, false))
    const paid = rng.chance(0.85)
    draft.facts.paidOverHalfHomeCost = paid
    draft.clauses.push(homeCostClause(rng, paid, high && rng.chance(0.5)))
    const months = rng.pick([12, 12, 10, 8, 7, 6, 5])
    const relationship = rng.pick(["child", "child", "stepchild", "foster_child"] as const)
    childClauses(rng, draft, relationship, months, rng.chance(0.85), high && rng.chance(0.5))
  },
  single_parent: (rng, draft, high) => {
    const divorced = rng.chance(0.5)
    draft.facts.maritalStatus = divorced ? "divorced" : "single"
    draft.clauses.push(divorced ? `I got divorced in ${rng.between(2012, 2024)}.` : rng.pick(["I've never been married.", "I'm single."]))
    const paid = rng.chance(0.8)
    draft.facts.paidOverHalfHomeCost = paid
    draft.clauses.push(homeCostClause(rng, paid, high))
    if (rng.chance(0.15)) {
      const months = rng.pick([12, 9, 5])
      const dependent = rng.chance(0.8)
      draft.facts.qualifyingPerson = { relationship: "other_relative", monthsLivedInHome: months, isDependent: dependent }
      draft.clauses.push(dependent ? `My nephew lived with me for ${months} months and I claim him as my dependent.` : `My nephew lived with me for ${months} months, but he supports himself and I can't claim him as a dependent.`)
      draft.qualifying = "relative"
    } else {
      childClauses(rng, draft, rng.pick(["child", "child", "stepchild"] as const), rng.pick([12, 12, 11, 9, 7, 6, 4]), true, high)
    }
  },
  supports_parent: (rng, draft) => {
    draft.facts.maritalStatus = rng.pick(["single", "divorced"] as const)
    draft.clauses.push(draft.facts.maritalStatus === "single" ? "I'm single." : `I got divorced in ${rng.between(2010, 2024)}.`)
    const mother = rng.chance(0.5)
    const p = mother ? { noun: "mother", he: "she", him: "her", his: "her" } : { noun: "dad", he: "he", him: "him", his: "his" }
    const livesWithMe = rng.chance(0.4)
    const dependent = rng.chance(0.8)
    const paid = rng.chance(0.85)
    draft.facts.paidOverHalfHomeCost = paid
    if (dependent) {
      draft.clauses.push(livesWithMe
        ? `My ${p.noun}, who I support, lives with me, and I claim ${p.him} as my dependent.`
        : `I support my ${p.noun}, who lives in ${p.his} own apartment across town, and I claim ${p.him} as my dependent.`)
    } else {
      draft.clauses.push(`My ${p.noun} ${livesWithMe ? "lives with me" : `lives in ${p.his} own place nearby`}, but ${p.he} has ${p.his} own pension and I can't claim ${p.him} as a dependent.`)
    }
    draft.clauses.push(livesWithMe
      ? homeCostClause(rng, paid, false)
      : paid ? `I pay more than half the cost of ${p.his} apartment.` : `${cap(p.he)} covers most of ${p.his} own rent.`)
    draft.facts.qualifyingPerson = { relationship: "parent", monthsLivedInHome: livesWithMe ? 12 : 0, isDependent: dependent }
    draft.qualifying = "parent"
  },
  recently_widowed: (rng, draft) => {
    const spouse = rng.pick(SPOUSES)
    draft.facts.maritalStatus = "widowed"
    draft.facts.spouseDiedYear = TAX_YEAR
    draft.clauses.push(rng.pick([`My ${spouse.noun} passed away in ${rng.pick(MONTHS)} ${TAX_YEAR}.`, `I lost my ${spouse.noun} in ${rng.pick(MONTHS)} this year.`]))
    const joint = rng.chance(0.75)
    draft.facts.wantsJointReturn = joint
    draft.clauses.push(joint ? "I'm filing a joint return for both of us for this last year." : "I'd rather file my own separate return.")
    spouseAgeClauses(rng, draft, spouse, rng.chance(0.4), false)
  },
  widowed_with_child: (rng, draft, high) => {
    const spouse = rng.pick(SPOUSES)
    draft.facts.maritalStatus = "widowed"
    const died = rng.pick([2024, 2024, 2023, 2023, 2022, 2021])
    draft.facts.spouseDiedYear = died
    draft.clauses.push(rng.pick([`My ${spouse.noun} passed away in ${rng.pick(MONTHS)} ${died}.`, `I lost my ${spouse.noun} in ${died}.`, `I've been a ${spouse.noun === "wife" ? "widower" : "widow"} since ${died}.`]))
    draft.clauses.push("I haven't remarried.")
    const paid = rng.chance(0.85)
    draft.facts.paidOverHalfHomeCost = paid
    draft.clauses.push(homeCostClause(rng, paid, high && rng.chance(0.5)))
    childClauses(rng, draft, rng.pick(["child", "child", "stepchild", "foster_child"] as const), rng.pick([12, 12, 12, 10]), true, high && rng.chance(0.5))
  },
  dependent_earner: (rng, draft) => {
    draft.facts.maritalStatus = "single"
    draft.facts.canBeClaimedAsDependent = true
    const earned = rng.pick([0, 600, 900, 2400, 5200, 8800, 14000, 17500])
    draft.facts.earnedIncome = earned
    draft.clauses.push(`I'm a ${rng.between(18, 23)}-year-old college student.`)
    draft.clauses.push(rng.pick(["My parents claim me as a dependent.", "My parents can still claim me on their return."]))
    draft.clauses.push(earned === 0 ? "I had no job this year." : rng.pick([`I earned $${earned.toLocaleString("en-US")} from a part-time job.`, `I made $${earned.toLocaleString("en-US")} waiting tables this summer.`]))
  }
}

const INTROS = ["", "Hi, I need help figuring out my 2025 taxes.", "Quick question about my 2025 federal return.", "I'm doing my 2025 return and I'm confused."]
const QUESTIONS = [
  "What's my filing status and standard deduction?",
  "Which filing status should I use, and how much is my standard deduction?",
  "What status do I file under and what deduction do I get?"
]
const IRRELEVANT = [
  "I live in Ohio.", "I moved from Texas to Oregon two years ago.", "I have a dog named Biscuit.", "I bought a used car in April.",
  "I have about $2,000 in a savings account.", "I'm learning to play the guitar.", "I volunteer at the library on Saturdays."
]
const IRRELEVANT_WORK = ["I work as a nurse.", "I'm a high school teacher.", "I got a small raise this year.", "My employer switched health plans in the fall."]

const buildOne = (rng: SeededRandom, segment: string, probe: boolean): { facts: TaxFacts; text: string; tags: Record<string, string> } => {
  const high = rng.chance(0.2)
  const draft: Draft = { facts: { taxYear: TAX_YEAR, maritalStatus: "single" }, clauses: [], qualifying: "none" }
  SEGMENTS[segment](rng, draft, high)
  const old = segment === "dependent_earner" ? false : probe ? rng.chance(0.7) : rng.chance(0.25)
  const blind = probe ? rng.chance(0.6) : rng.chance(0.06)
  if (segment !== "dependent_earner") draft.clauses.push(ageClause(rng, old, high))
  if (blind) draft.clauses.push(rng.pick(["I'm legally blind.", "My eye doctor certified me as legally blind."]))
  draft.facts.age65OrOlder = old
  draft.facts.blind = blind
  if (probe && (segment === "single_filer" || segment === "divorced_or_separated") && rng.chance(0.5)) {
    draft.facts.canBeClaimedAsDependent = true
    draft.facts.earnedIncome = rng.pick([1200, 4000])
    draft.clauses.push(`My brother claims me as his dependent, and I earned $${draft.facts.earnedIncome.toLocaleString("en-US")} from odd jobs.`)
  }
  const noisePool = old || segment === "dependent_earner" || draft.facts.canBeClaimedAsDependent === true ? IRRELEVANT : [...IRRELEVANT, ...IRRELEVANT_WORK]
  const noise = rng.shuffle(noisePool).slice(0, rng.between(0, 2))
  const body = rng.shuffle([...draft.clauses.slice(1), ...noise])
  const intro = rng.pick(INTROS)
  const text = [intro, draft.clauses[0], ...body, rng.pick(QUESTIONS)].filter((s) => s.length > 0).join(" ")
  const facts: TaxFacts = {
    ...draft.facts,
    remarried: draft.facts.remarried ?? false,
    wantsJointReturn: draft.facts.wantsJointReturn ?? false,
    spouseLivedInHomeLast6Months: draft.facts.spouseLivedInHomeLast6Months ?? false,
    paidOverHalfHomeCost: draft.facts.paidOverHalfHomeCost ?? false,
    spouseAge65OrOlder: draft.facts.spouseAge65OrOlder ?? false,
    spouseBlind: draft.facts.spouseBlind ?? false,
    canBeClaimedAsDependent: draft.facts.canBeClaimedAsDependent ?? false,
    spouseItemizes: draft.facts.spouseItemizes ?? false,
    spouseHadNoGrossIncome: draft.facts.spouseHadNoGrossIncome ?? false
  }
  return {
    facts,
    text,
    tags: {
      household: segment,
      age_band: old ? "65_plus" : "under_65",
      vision: blind ? "blind" : "sighted",
      qualifying_person: draft.qualifying,
      ambiguity: high ? "high" : "low"
    }
  }
}

/** Flat intermediate facts: every key of `flattenTaxFacts` (see the module comment). */
export const intakeFacts = (facts: TaxFacts): Record<string, GroundTruthValue> => ({ ...flattenTaxFacts(facts) })

export const taxScenarioGenerator: ScenarioGenerator = {
  worldModelId: TAX_WORLD_ID,
  sizeRange: { min: 10, max: 100_000 },
  generate: (model: PublishedWorldModel, { seed, size }): ReadonlyArray<GeneratedStimulus> => {
    const rng = seededRandom(seed)
    const segments = rng.shuffle(Object.keys(SEGMENTS).sort())
    const out: Array<GeneratedStimulus> = []
    for (let i = 0; i < size; i++) {
      const segment = segments[i % segments.length]
      const probe = rng.chance(0.08)
      const { facts, tags, text } = buildOne(rng, segment, probe)
      const decision = decideTaxFacts(model, facts)
      const weight = (TAX_SEGMENT_WEIGHTS[segment] ?? 1) * (tags.ambiguity === "high" ? 1.25 : 1) * (facts.age65OrOlder || facts.blind ? 1.2 : 1)
      out.push({
        input: text,
        expected: { filingStatus: decision.filingStatus, standardDeduction: decision.standardDeduction },
        intermediate: { facts: intakeFacts(facts) },
        segment,
        stratification: tags,
        stimulusWeight: Math.round(weight * 100) / 100,
        provenance: probe ? "exploratory_probe" : "rule_grounded"
      })
    }
    return out
  }
}
