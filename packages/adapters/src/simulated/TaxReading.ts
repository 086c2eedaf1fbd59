/**
 * How the simulated model "reads" a US individual-tax scenario written in plain English: keyword
 * and pattern reading of marital status, living arrangements, home costs, the qualifying person,
 * age, sight and dependency. It is the simulated model's own understanding (imperfect on purpose
 * where the text is ambiguous), not the world model's rules; only the tax year is the tax world's.
 */
import { TAX_YEAR } from "@spectral/worlds"
import { boundedMemo } from "./BoundedMemo.ts"

export interface ReadFacts {
  taxYear: number
  maritalStatus: "single" | "married" | "divorced" | "legally_separated" | "widowed"
  spouseDiedYear?: number
  remarried: boolean
  wantsJointReturn: boolean
  spouseLivedInHomeLast6Months: boolean
  paidOverHalfHomeCost: boolean
  qualifyingPersonRelationship: "none" | "child" | "stepchild" | "foster_child" | "parent" | "other_relative"
  qualifyingPersonMonths: number
  qualifyingPersonIsDependent: boolean
  age65OrOlder: boolean
  blind: boolean
  spouseAge65OrOlder: boolean
  spouseBlind: boolean
  canBeClaimedAsDependent: boolean
  earnedIncome?: number
  spouseItemizes: boolean
  spouseHadNoGrossIncome: boolean
}

/** Which readings were ambiguous (a weaker or hotter model gets these wrong more often). */
export interface Reading {
  readonly facts: ReadFacts
  readonly ambiguous: ReadonlyArray<keyof ReadFacts>
}

const MONTHS = ["january", "february", "march", "april", "may", "june", "july", "august", "september", "october", "november", "december"]

const monthIndex = (text: string): number | undefined => {
  const m = text.match(/\b(january|february|march|april|may|june|july|august|september|october|november|december)\b/)
  return m === null ? undefined : MONTHS.indexOf(m[1]!)
}

const readScenarioNow = (raw: string): Reading => {
  const text = raw.toLowerCase()
  const sentences = raw.split(/(?<=[.!?])\s+/).map((s) => s.toLowerCase())
  const ambiguous: Array<keyof ReadFacts> = []
  const year = text.match(/\b(20\d\d) (?:taxes|federal return|return)\b/)
  const facts: ReadFacts = {
    taxYear: year !== null ? Number(year[1]) : TAX_YEAR,
    maritalStatus: "single",
    remarried: false,
    wantsJointReturn: false,
    spouseLivedInHomeLast6Months: false,
    paidOverHalfHomeCost: false,
    qualifyingPersonRelationship: "none",
    qualifyingPersonMonths: 0,
    qualifyingPersonIsDependent: false,
    age65OrOlder: false,
    blind: false,
    spouseAge65OrOlder: false,
    spouseBlind: false,
    canBeClaimedAsDependent: false,
    spouseItemizes: false,
    spouseHadNoGrossIncome: false
  }
  // Marital status on December 31.
  if (/\bi remarried\b/.test(text)) {
    facts.maritalStatus = "married"
    facts.remarried = true
    const died = text.match(/died in (\d{4})/)
    if (died !== null) facts.spouseDiedYear = Number(died[1])
    facts.spouseLivedInHomeLast6Months = true
  } else if (/passed away|i lost my (wife|husband)|widow(er)? since/.test(text)) {
    facts.maritalStatus = "widowed"
    const year = text.match(/(?:passed away in (?:\w+ )?|lost my (?:wife|husband) in (?:\w+ )?|since )(\d{4})/)
    facts.spouseDiedYear = year !== null ? Number(year[1]) : /this year/.test(text) ? TAX_YEAR : TAX_YEAR
    if (/lost my (wife|husband) in \w+ this year/.test(text)) facts.spouseDiedYear = TAX_YEAR
  } else if (/legally separated/.test(text)) {
    facts.maritalStatus = "legally_separated"
  } else if (/divorce/.test(text)) {
    facts.maritalStatus = "divorced"
    if (/december 30, 2025/.test(text)) ambiguous.push("maritalStatus")
  } else if (/married/.test(text) && !/never been married|not married/.test(text)) {
    facts.maritalStatus = "married"
  }
  if (facts.maritalStatus === "married" || (facts.maritalStatus === "widowed" && facts.spouseDiedYear === TAX_YEAR)) {
    facts.wantsJointReturn = /file jointly|joint return|file together/.test(text)
  }
  if (facts.maritalStatus === "married") {
    const moved = sentences.find((s) => /moved out/.test(s) && /(wife|husband)/.test(s))
    if (moved === undefined) {
      facts.spouseLivedInHomeLast6Months = true
    } else if (/labor day/.test(moved)) {
      facts.spouseLivedInHomeLast6Months = true
      ambiguous.push("spouseLivedInHomeLast6Months")
    } else if (/last spring/.test(moved)) {
      facts.spouseLivedInHomeLast6Months = false
      ambiguous.push("spouseLivedInHomeLast6Months")
    } else {
      const m = monthIndex(moved)
      facts.spouseLivedInHomeLast6Months = m !== undefined && m >= 6
    }
    facts.spouseItemizes = /itemizing deductions/.test(text)
    facts.spouseHadNoGrossIncome = /had no income at all/.test(text)
  }
  // Home costs.
  if (/cover about 60%/.test(text)) {
    facts.paidOverHalfHomeCost = true
    ambiguous.push("paidOverHalfHomeCost")
  } else if (/roughly 50\/50/.test(text)) {
    facts.paidOverHalfHomeCost = false
    ambiguous.push("paidOverHalfHomeCost")
  } else {
    facts.paidOverHalfHomeCost = /i paid most of the rent|more than half of the household|i pay the mortgage|pay more than half the cost/.test(text)
  }
  // The qualifying person.
  const childSentence = sentences.find((s) => /\bmy (son|daughter|stepson|stepdaughter|foster (son|daughter))\b/.test(s))
  const parentSentence = sentences.find((s) => /\bmy (mother|dad)\b/.test(s))
  const nephewSentence = sentences.find((s) => /\bmy nephew\b/.test(s))
  if (childSentence !== undefined) {
    facts.qualifyingPersonRelationship = /foster/.test(childSentence) ? "foster_child" : /step(son|daughter)/.test(childSentence) ? "stepchild" : "child"
    if (/all year|full time/.test(childSentence)) facts.qualifyingPersonMonths = 12
    else if (/away at college/.test(childSentence)) {
      facts.qualifyingPersonMonths = 12
      ambiguous.push("qualifyingPersonMonths")
    } else if (/from january through june/.test(childSentence)) {
      facts.qualifyingPersonMonths = 6
      ambiguous.push("qualifyingPersonMonths")
    } else {
      const n = childSentence.match(/for (\d+) months/)
      const m = monthIndex(childSentence.replace(/.*moved in with me in/, ""))
      facts.qualifyingPersonMonths = n !== null ? Number(n[1]) : m !== undefined ? 12 - m : 12
    }
    const after = sentences[sentences.indexOf(childSentence) + 1] ?? ""
    const claim = `${childSentence} ${after}`
    facts.qualifyingPersonIsDependent = /other parent claims/.test(claim) ? false : /dependent/.test(claim)
  } else if (parentSentence !== undefined) {
    facts.qualifyingPersonRelationship = "parent"
    facts.qualifyingPersonMonths = /lives with me/.test(parentSentence) ? 12 : 0
    facts.qualifyingPersonIsDependent = !/can't claim/.test(parentSentence) && /dependent/.test(parentSentence)
  } else if (nephewSentence !== undefined) {
    facts.qualifyingPersonRelationship = "other_relative"
    const n = nephewSentence.match(/for (\d+) months/)
    facts.qualifyingPersonMonths = n !== null ? Number(n[1]) : 12
    facts.qualifyingPersonIsDependent = !/can't claim/.test(nephewSentence)
  }
  // Age and sight.
  const born = text.match(/i was born in (\d{4})/)
  const age = text.match(/i(?:'m| turn| turned)(?: retired and)? (\d{2})\b/)
  if (born !== null) {
    facts.age65OrOlder = TAX_YEAR - Number(born[1]) >= 65
    ambiguous.push("age65OrOlder")
  } else if (age !== null) {
    facts.age65OrOlder = Number(age[1]) >= 65
  }
  facts.blind = /i'm legally blind|certified me as legally blind/.test(text)
  const spouseAge = text.match(/my (?:wife|husband) is (\d{2})\b/)
  facts.spouseAge65OrOlder = spouseAge !== null && Number(spouseAge[1]) >= 65
  facts.spouseBlind = /my (wife|husband) is legally blind/.test(text)
  // Dependent of someone else.
  facts.canBeClaimedAsDependent = /claim me|claims me/.test(text)
  const earned = text.match(/(?:earned|made) \$([\d,]+)/)
  if (earned !== null) facts.earnedIncome = Number(earned[1]!.replace(/,/g, ""))
  else if (/no job this year/.test(text)) facts.earnedIncome = 0
  return { facts, ambiguous }
}

/**
 * The reading of one scenario (memoized: the same stimulus is read by every agent, the judge and
 * every candidate of a scan). The result is shared; callers copy before changing it.
 */
export const readScenario: (raw: string) => Reading = boundedMemo(8192, readScenarioNow)
