/**
 * `us-federal-individual-tax`: filing status and the 2025 standard deduction, written from IRS
 * Publication 501 (2025) and the 2025 amounts. Authored as data in the world-model format
 * (`RuleSet.ts`); each rule cites its section. Version 0.2.0 adds one rule (the additional
 * standard deduction for a spouse with no gross income on a separate return). The 2025 amounts are
 * written once, in the exported tables below, and the rules (and the simulated model in
 * `@spectral/adapters`) read them from there. No evaluation here.
 */
import type { Rule, WorldModelHeader } from "../RuleSet.ts"

export const TAX_WORLD_ID = "us-federal-individual-tax"

const PUB_501 = "IRS Publication 501 (2025), Dependents, Standard Deduction, and Filing Information"
const PUB_501_URL = "https://www.irs.gov/publications/p501"
const cite = (section: string) => ({ source: PUB_501, section, url: PUB_501_URL })

/** Table 6 (2025): the basic standard deduction for each filing status. */
export const STANDARD_DEDUCTION_2025: Readonly<Record<"single" | "mfj" | "mfs" | "hoh" | "qss", number>> = {
  single: 15750,
  mfs: 15750,
  mfj: 31500,
  qss: 31500,
  hoh: 23625
}

/** Table 7 (2025): added once for being 65 or older and once for being blind (and for a spouse where allowed). */
export const ADDITIONAL_STANDARD_DEDUCTION_2025 = {
  /** Single or head of household. */
  unmarried: 2000,
  /** Married filing jointly or separately, qualifying surviving spouse. */
  married: 1600
} as const

/** Table 8 (2025): a dependent's basic standard deduction is the greater of `minimum` or earned income plus `earnedIncomePlus`. */
export const DEPENDENT_STANDARD_DEDUCTION_2025 = { minimum: 1350, earnedIncomePlus: 450 } as const

const usd = (amount: number) => `$${amount.toLocaleString("en-US")}`
const base = STANDARD_DEDUCTION_2025
const additional = ADDITIONAL_STANDARD_DEDUCTION_2025
const dependent = DEPENDENT_STANDARD_DEDUCTION_2025

const CHILD_LIKE = ["child", "stepchild", "foster_child"]
const any65OrBlind = { any: [{ fact: "age65OrOlder", op: "eq", value: true }, { fact: "blind", op: "eq", value: true }] } as const
const spouse65OrBlind = { any: [{ fact: "spouseAge65OrOlder", op: "eq", value: true }, { fact: "spouseBlind", op: "eq", value: true }] } as const

export const taxRules_0_1_0: ReadonlyArray<Rule> = [
  // Stage 0: definitions and tests.
  {
    id: "status.married-on-dec-31",
    tier: 2,
    kind: "definition",
    title: "Marital status is determined on December 31",
    statement: "Whether you are married is determined on the last day of the tax year; if married on December 31 you are married for the whole year.",
    citation: cite("Filing Status — Marital Status"),
    stage: 0,
    appliesWhen: { fact: "maritalStatus", op: "eq", value: "married" },
    contradictions: ["marital status [^.]{0,30}(as of|on) (january|jan\\.?) (1|first)"]
  },
  {
    id: "status.spouse-died-this-year",
    tier: 1,
    kind: "definition",
    title: "Spouse died during the year: considered married for the whole year",
    statement: "If your spouse died during the year, you are considered married for the whole year and can file a joint return for that year (if you did not remarry).",
    citation: cite("Filing Status — Marital Status, Spouse died during the year"),
    stage: 0,
    appliesWhen: {
      all: [
        { fact: "maritalStatus", op: "eq", value: "widowed" },
        { fact: "spouseDiedYear", op: "eq", value: { fact: "taxYear" } }
      ]
    },
    contradictions: [
      "(spouse|husband|wife) (died|passed away|passes away|dies)[^.]{0,60}(cannot|can't|can not|may not|must not|is not allowed to) file (a )?joint",
      "(cannot|can't|can not|may not) file (a )?joint(ly| return)?[^.]{0,40}(year|after) (the|your|their) (spouse|husband|wife) (died|passed)"
    ]
  },
  {
    id: "status.married-for-year",
    tier: 2,
    kind: "definition",
    title: "Married for filing purposes",
    statement: "You are treated as married for the year if you are married on December 31 or your spouse died during the year.",
    citation: cite("Filing Status — Marital Status"),
    stage: 0,
    appliesWhen: { any: [{ rule: "status.married-on-dec-31" }, { rule: "status.spouse-died-this-year" }] }
  },
  {
    id: "status.unmarried",
    tier: 2,
    kind: "definition",
    title: "Unmarried for the year",
    statement: "You are unmarried for the whole year if on December 31 you are unmarried, or divorced or legally separated under a decree of divorce or separate maintenance; a widow(er) whose spouse died before the year is unmarried.",
    citation: cite("Filing Status — Marital Status, Unmarried persons; Divorced or separated"),
    stage: 0,
    appliesWhen: {
      any: [
        { fact: "maritalStatus", op: "in", value: ["single", "divorced", "legally_separated"] },
        { all: [{ fact: "maritalStatus", op: "eq", value: "widowed" }, { fact: "spouseDiedYear", op: "lt", value: { fact: "taxYear" } }] }
      ]
    }
  },
  {
    id: "hoh.qualifying-child-lived-with",
    tier: 2,
    kind: "definition",
    title: "Qualifying child lived with you more than half the year",
    statement: "Your child, stepchild or foster child who lived with you more than half the year is a qualifying person for head of household.",
    citation: cite("Head of Household — Qualifying Person (Table 4)"),
    stage: 0,
    appliesWhen: {
      all: [
        { fact: "qualifyingPersonRelationship", op: "in", value: CHILD_LIKE },
        { fact: "qualifyingPersonMonths", op: "gt", value: 6 }
      ]
    }
  },
  {
    id: "hoh.qualifying-relative-lived-with",
    tier: 2,
    kind: "definition",
    title: "Qualifying relative dependent lived with you more than half the year",
    statement: "A relative you can claim as a dependent who lived with you more than half the year is a qualifying person for head of household.",
    citation: cite("Head of Household — Qualifying Person (Table 4)"),
    stage: 0,
    appliesWhen: {
      all: [
        { fact: "qualifyingPersonRelationship", op: "eq", value: "other_relative" },
        { fact: "qualifyingPersonMonths", op: "gt", value: 6 },
        { fact: "qualifyingPersonIsDependent", op: "eq", value: true }
      ]
    }
  },
  {
    id: "hoh.dependent-parent-exception",
    tier: 1,
    kind: "definition",
    title: "Special rule for a dependent parent",
    statement: "If your qualifying person is your father or mother whom you can claim as a dependent, the parent does not have to live with you; you must pay more than half the cost of keeping up the parent's main home.",
    citation: cite("Head of Household — Special rule for parent"),
    stage: 0,
    appliesWhen: {
      all: [
        { fact: "qualifyingPersonRelationship", op: "eq", value: "parent" },
        { fact: "qualifyingPersonIsDependent", op: "eq", value: true }
      ]
    },
    contradictions: [
      "parents?[^.]{0,60}(must|has to|have to|needs? to) (have )?(live|lived|living) with (you|the taxpayer|them)",
      "(a )?parent who (lives|lived) (elsewhere|apart|in (a|their own) (home|house|apartment))[^.]{0,40}(can ?not|cannot|can't|never) (be|count as) a qualifying person"
    ]
  },
  {
    id: "hoh.considered-unmarried",
    tier: 1,
    kind: "definition",
    title: "Considered unmarried",
    statement: "A married person is considered unmarried for head of household if they file a separate return, paid more than half the cost of keeping up the home, the spouse did not live in the home during the last 6 months of the year, the home was the main home of their child, stepchild or foster child for more than half the year, and they can claim the child as a dependent.",
    citation: cite("Head of Household — Considered Unmarried"),
    stage: 0,
    appliesWhen: {
      all: [
        { rule: "status.married-on-dec-31" },
        { fact: "paidOverHalfHomeCost", op: "eq", value: true },
        { fact: "spouseLivedInHomeLast6Months", op: "eq", value: false },
        { fact: "qualifyingPersonRelationship", op: "in", value: CHILD_LIKE },
        { fact: "qualifyingPersonMonths", op: "gt", value: 6 },
        { fact: "qualifyingPersonIsDependent", op: "eq", value: true }
      ]
    },
    contradictions: [
      "married (taxpayers|people|persons|filers|individuals|couples)? ?(can ?not|cannot|can't|may not|can never|may never|are never allowed to|never) (file|qualify|claim)[^.]{0,30}head of household",
      "head of household[^.]{0,40}(only|exclusively) (for|available to) (unmarried|single|divorced)"
    ]
  },
  // Stage 1: filing status eligibility.
  {
    id: "fs.single",
    tier: 1,
    kind: "eligibility",
    title: "Single",
    statement: "You may file as Single if on the last day of the year you are unmarried or legally separated under a divorce or separate maintenance decree.",
    citation: cite("Filing Status — Single"),
    stage: 1,
    appliesWhen: { rule: "status.unmarried" },
    outcome: { kind: "candidate", field: "filingStatus", value: "single" }
  },
  {
    id: "fs.mfj",
    tier: 1,
    kind: "eligibility",
    title: "Married filing jointly",
    statement: "You can choose married filing jointly if you are married and both you and your spouse agree to file a joint return, including the year your spouse died.",
    citation: cite("Filing Status — Married Filing Jointly"),
    stage: 1,
    appliesWhen: { all: [{ rule: "status.married-for-year" }, { not: { fact: "wantsJointReturn", op: "eq", value: false } }] },
    outcome: { kind: "candidate", field: "filingStatus", value: "mfj" }
  },
  {
    id: "fs.mfs",
    tier: 1,
    kind: "eligibility",
    title: "Married filing separately",
    statement: "A married person may choose to file a separate return.",
    citation: cite("Filing Status — Married Filing Separately"),
    stage: 1,
    appliesWhen: { rule: "status.married-for-year" },
    outcome: { kind: "candidate", field: "filingStatus", value: "mfs" }
  },
  {
    id: "fs.hoh",
    tier: 1,
    kind: "eligibility",
    title: "Head of household",
    statement: "You may file as head of household if you are unmarried or considered unmarried on the last day of the year, paid more than half the cost of keeping up a home, and a qualifying person lived with you more than half the year (a dependent parent need not live with you).",
    citation: cite("Filing Status — Head of Household"),
    stage: 1,
    appliesWhen: {
      all: [
        { any: [{ rule: "status.unmarried" }, { rule: "hoh.considered-unmarried" }] },
        { fact: "paidOverHalfHomeCost", op: "eq", value: true },
        { any: [{ rule: "hoh.qualifying-child-lived-with" }, { rule: "hoh.qualifying-relative-lived-with" }, { rule: "hoh.dependent-parent-exception" }] }
      ]
    },
    outcome: { kind: "candidate", field: "filingStatus", value: "hoh" },
    contradictions: ["head of household[^.]{0,60}(does not|doesn't|need not|needn't) (require|need)[^.]{0,30}(half|50%)[^.]{0,20}(cost|home)"]
  },
  {
    id: "fs.qss",
    tier: 1,
    kind: "eligibility",
    title: "Qualifying surviving spouse",
    statement: "You may file as a qualifying surviving spouse if your spouse died in either of the two prior years, you did not remarry before the end of the year, you have a child or stepchild you can claim as a dependent who lived in your home all year, and you paid more than half the cost of keeping up the home.",
    citation: cite("Filing Status — Qualifying Surviving Spouse"),
    stage: 1,
    appliesWhen: {
      all: [
        { fact: "maritalStatus", op: "eq", value: "widowed" },
        { fact: "spouseDiedYear", op: "gte", value: { fact: "taxYear", plus: -2 } },
        { fact: "spouseDiedYear", op: "lte", value: { fact: "taxYear", plus: -1 } },
        { not: { fact: "remarried", op: "eq", value: true } },
        { fact: "qualifyingPersonRelationship", op: "in", value: ["child", "stepchild"] },
        { fact: "qualifyingPersonMonths", op: "eq", value: 12 },
        { fact: "qualifyingPersonIsDependent", op: "eq", value: true },
        { fact: "paidOverHalfHomeCost", op: "eq", value: true }
      ]
    },
    outcome: { kind: "candidate", field: "filingStatus", value: "qss" },
    contradictions: [
      "remarried[^.]{0,60}(can|may|still) (file|claim|qualify)[^.]{0,30}(qualifying surviving spouse|qualifying widow|qss)",
      "(qualifying surviving spouse|qualifying widow|qss)[^.]{0,60}(any|all) (prior|previous|earlier) years?"
    ]
  },
  // Stage 2: basic standard deduction (2025 amounts).
  {
    id: "sd.base.single-or-mfs",
    tier: 1,
    kind: "amount",
    title: `Standard deduction: Single or married filing separately, ${usd(base.single)}`,
    statement: `For 2025 the standard deduction is ${usd(base.single)} for Single or Married filing separately.`,
    citation: cite("Standard Deduction — Table 6, Standard Deduction Chart for Most People (2025)"),
    stage: 2,
    appliesWhen: { outcome: "filingStatus", in: ["single", "mfs"] },
    outcome: { kind: "assign", field: "standardDeduction", value: base.single }
  },
  {
    id: "sd.base.mfj-or-qss",
    tier: 1,
    kind: "amount",
    title: `Standard deduction: Married filing jointly or qualifying surviving spouse, ${usd(base.mfj)}`,
    statement: `For 2025 the standard deduction is ${usd(base.mfj)} for Married filing jointly or Qualifying surviving spouse.`,
    citation: cite("Standard Deduction — Table 6, Standard Deduction Chart for Most People (2025)"),
    stage: 2,
    appliesWhen: { outcome: "filingStatus", in: ["mfj", "qss"] },
    outcome: { kind: "assign", field: "standardDeduction", value: base.mfj }
  },
  {
    id: "sd.base.hoh",
    tier: 1,
    kind: "amount",
    title: `Standard deduction: Head of household, ${usd(base.hoh)}`,
    statement: `For 2025 the standard deduction is ${usd(base.hoh)} for Head of household.`,
    citation: cite("Standard Deduction — Table 6, Standard Deduction Chart for Most People (2025)"),
    stage: 2,
    appliesWhen: { outcome: "filingStatus", in: ["hoh"] },
    outcome: { kind: "assign", field: "standardDeduction", value: base.hoh }
  },
  // Stage 3: dependents.
  {
    id: "sd.dependent-limit",
    tier: 1,
    kind: "amount",
    title: "Standard deduction for dependents",
    statement: `If someone else can claim you as a dependent, your basic standard deduction is the greater of ${usd(dependent.minimum)} or your earned income plus ${usd(dependent.earnedIncomePlus)}, but not more than the regular amount for your filing status.`,
    citation: cite("Standard Deduction for Dependents — Table 8 (2025)"),
    stage: 3,
    appliesWhen: { fact: "canBeClaimedAsDependent", op: "eq", value: true },
    outcome: {
      kind: "assign",
      field: "standardDeduction",
      value: { min: [{ current: "standardDeduction" }, { max: [dependent.minimum, { fact: "earnedIncome", plus: dependent.earnedIncomePlus, default: 0 }] }] }
    }
  },
  // Stage 4: additional amounts for age 65 or older and blindness.
  {
    id: "sd.additional.married",
    tier: 1,
    kind: "amount",
    title: `Additional standard deduction, married filers: ${usd(additional.married)} each for 65 or older and blind`,
    statement: `For 2025 a married taxpayer (joint, separate, or qualifying surviving spouse) adds ${usd(additional.married)} for being 65 or older and ${usd(additional.married)} for being blind.`,
    citation: cite("Standard Deduction — Higher Standard Deduction for Age (65 or Older) and Blindness, Table 7 (2025)"),
    stage: 4,
    appliesWhen: { all: [{ outcome: "filingStatus", in: ["mfj", "mfs", "qss"] }, any65OrBlind] },
    outcome: {
      kind: "assign",
      field: "standardDeduction",
      value: { add: [{ current: "standardDeduction" }, { countTrue: ["age65OrOlder", "blind"], times: additional.married }] }
    }
  },
  {
    id: "sd.additional.spouse-joint",
    tier: 1,
    kind: "amount",
    title: `Additional standard deduction for the spouse on a joint return: ${usd(additional.married)} each`,
    statement: `On a joint return the additional amount is also taken for a spouse who is 65 or older or blind, ${usd(additional.married)} each for 2025.`,
    citation: cite("Standard Deduction — Higher Standard Deduction for Age (65 or Older) and Blindness, Table 7 (2025)"),
    stage: 4,
    appliesWhen: { all: [{ outcome: "filingStatus", in: ["mfj"] }, spouse65OrBlind] },
    outcome: {
      kind: "assign",
      field: "standardDeduction",
      value: { add: [{ current: "standardDeduction" }, { countTrue: ["spouseAge65OrOlder", "spouseBlind"], times: additional.married }] }
    }
  },
  {
    id: "sd.additional.unmarried",
    tier: 1,
    kind: "amount",
    title: `Additional standard deduction, Single or head of household: ${usd(additional.unmarried)} each for 65 or older and blind`,
    statement: `For 2025 a Single or Head of household taxpayer adds ${usd(additional.unmarried)} for being 65 or older and ${usd(additional.unmarried)} for being blind.`,
    citation: cite("Standard Deduction — Higher Standard Deduction for Age (65 or Older) and Blindness, Table 7 (2025)"),
    stage: 4,
    appliesWhen: { all: [{ outcome: "filingStatus", in: ["single", "hoh"] }, any65OrBlind] },
    outcome: {
      kind: "assign",
      field: "standardDeduction",
      value: { add: [{ current: "standardDeduction" }, { countTrue: ["age65OrOlder", "blind"], times: additional.unmarried }] }
    }
  },
  // Stage 5: separate return when the spouse itemizes.
  {
    id: "sd.mfs-spouse-itemizes",
    tier: 1,
    kind: "amount",
    title: "Married filing separately: no standard deduction if the spouse itemizes",
    statement: "If you are married filing separately and your spouse itemizes deductions, your standard deduction is zero.",
    citation: cite("Standard Deduction — Persons not eligible for the standard deduction"),
    stage: 5,
    appliesWhen: { all: [{ outcome: "filingStatus", in: ["mfs"] }, { fact: "spouseItemizes", op: "eq", value: true }] },
    outcome: { kind: "assign", field: "standardDeduction", value: 0 },
    contradictions: [
      "(married filing separately|separate return)[^.]{0,80}(always|still) (take|claim|get|use|receive) (the |a )?(full )?standard deduction",
      "(spouse|husband|wife) itemiz[^.]{0,60}(does not|doesn't|has no) (affect|effect|impact)"
    ]
  },
  // Tier 3: interpretive guidance (no outcome of its own).
  {
    id: "guidance.temporary-absence",
    tier: 3,
    kind: "guidance",
    title: "Temporary absences count as time lived in the home",
    statement: "A person is considered to live with you during temporary absences for special circumstances such as illness, education, business, vacation or military service.",
    citation: cite("Head of Household — Home of qualifying person, Temporary absences"),
    stage: 0,
    appliesWhen: { fact: "qualifyingPersonRelationship", op: "in", value: ["child", "stepchild", "foster_child", "other_relative"] }
  },
  {
    id: "guidance.joint-return-default",
    tier: 3,
    kind: "guidance",
    title: "A joint return is assumed possible unless the spouses file separately",
    statement: "When married spouses have not said they will file separately, a joint return (the usually more favourable choice) is treated as available.",
    citation: cite("Filing Status — Married Filing Jointly"),
    stage: 0,
    appliesWhen: { all: [{ rule: "status.married-for-year" }, { fact: "wantsJointReturn", op: "absent" }] }
  }
]

/** 0.2.0 adds the spouse's additional amount on a separate return (spouse with no gross income). */
export const taxRule_0_2_0_spouseSeparate: Rule = {
  id: "sd.additional.spouse-separate",
  tier: 1,
  kind: "amount",
  title: "Additional standard deduction for the spouse on a separate return",
  statement: `If you file separately you can take the additional ${usd(additional.married)} for your spouse who is 65 or older or blind if your spouse had no gross income, is not filing a return, and cannot be claimed as a dependent.`,
  citation: cite("Standard Deduction — Higher Standard Deduction for Age (65 or Older) and Blindness, Spouse 65 or older or blind"),
  stage: 4,
  appliesWhen: {
    all: [
      { outcome: "filingStatus", in: ["mfs"] },
      { fact: "spouseHadNoGrossIncome", op: "eq", value: true },
      spouse65OrBlind
    ]
  },
  outcome: {
    kind: "assign",
    field: "standardDeduction",
    value: { add: [{ current: "standardDeduction" }, { countTrue: ["spouseAge65OrOlder", "spouseBlind"], times: additional.married }] }
  }
}

const facts_0_1_0: WorldModelHeader["facts"] = [
  { name: "taxYear", type: "number", description: "The tax year (the amounts are for 2025)." },
  { name: "maritalStatus", type: "string", values: ["single", "married", "divorced", "legally_separated", "widowed"], description: "Marital status on December 31." },
  { name: "spouseDiedYear", type: "number", description: "Year the spouse died (widowed only)." },
  { name: "remarried", type: "boolean", description: "Remarried after the spouse's death (before the end of the tax year)." },
  { name: "wantsJointReturn", type: "boolean", description: "Both spouses agree to a joint return (absent: not said)." },
  { name: "spouseLivedInHomeLast6Months", type: "boolean", description: "The spouse lived in the home at any time during the last 6 months of the year." },
  { name: "paidOverHalfHomeCost", type: "boolean", description: "Paid more than half the cost of keeping up the home (for a parent: the parent's home)." },
  { name: "qualifyingPersonRelationship", type: "string", values: ["none", "child", "stepchild", "foster_child", "parent", "other_relative"], description: "Relationship of the person who might qualify the taxpayer." },
  { name: "qualifyingPersonMonths", type: "number", description: "Months that person lived in the taxpayer's home (0..12)." },
  { name: "qualifyingPersonIsDependent", type: "boolean", description: "The taxpayer can claim that person as a dependent." },
  { name: "age65OrOlder", type: "boolean", description: "The taxpayer is 65 or older at the end of the year." },
  { name: "blind", type: "boolean", description: "The taxpayer is blind." },
  { name: "spouseAge65OrOlder", type: "boolean", description: "The spouse is 65 or older." },
  { name: "spouseBlind", type: "boolean", description: "The spouse is blind." },
  { name: "canBeClaimedAsDependent", type: "boolean", description: "Someone else can claim the taxpayer as a dependent." },
  { name: "earnedIncome", type: "number", description: "Earned income in dollars (wages, self-employment)." },
  { name: "spouseItemizes", type: "boolean", description: "The spouse itemizes deductions on a separate return." }
]

const header_0_1_0: Omit<WorldModelHeader, "version" | "facts"> = {
  id: TAX_WORLD_ID,
  title: "US federal individual income tax: filing status and standard deduction (2025)",
  domain: "tax",
  description: "Filing status (Single, MFJ, MFS, HoH, QSS) including the considered-unmarried test and the dependent-parent exception, and the 2025 standard deduction with additional amounts and the dependent limit.",
  sources: [{ source: PUB_501, section: "Filing Status; Standard Deduction", url: PUB_501_URL }],
  outputs: [
    { field: "filingStatus", kind: "categorical", preference: ["mfj", "qss", "hoh", "single", "mfs"] },
    { field: "standardDeduction", kind: "numeric", initial: 0 }
  ],
  dimensions: [
    { id: "filing_status", field: "filingStatus", comparison: "exact", weight: 0.7 },
    { id: "standard_deduction", field: "standardDeduction", comparison: "numeric_tolerance", tolerance: 0, weight: 0.3 }
  ],
  invariants: [
    { id: "inv.no-tier1-contradiction", kind: "no_tier1_contradiction", description: "Guidance, prompts and examples may not assert what a tier-1 rule forbids." },
    { id: "inv.required-output-fields", kind: "required_output_fields", description: "The team's answer carries the filing status and the standard deduction; no agent drops a field its baseline produced.", fields: ["filingStatus", "standardDeduction"] },
    { id: "inv.hyperparameter-bounds", kind: "hyperparameter_bounds", description: "Sampling settings stay inside the bounds this world was validated with.", bounds: { temperature: { min: 0, max: 1.2 }, maxTokens: { min: 64, max: 4096 } } }
  ],
  segments: {
    single_filer: "Never married, no one else in the household",
    divorced_or_separated: "Divorced or legally separated, no qualifying person",
    married_together: "Married, living together",
    married_separate_returns: "Married, filing separately",
    married_living_apart: "Married, spouse moved out during the year, a child at home",
    single_parent: "Unmarried with a child at home",
    supports_parent: "Unmarried, supporting a parent",
    recently_widowed: "Spouse died during the tax year",
    widowed_with_child: "Spouse died in an earlier year, a child at home",
    dependent_earner: "Someone else can claim the taxpayer as a dependent"
  }
}

export const taxWorldDefinition_0_1_0 = {
  ...header_0_1_0,
  version: "0.1.0",
  facts: facts_0_1_0,
  rules: taxRules_0_1_0
}

export const taxWorldDefinition_0_2_0 = {
  ...header_0_1_0,
  version: "0.2.0",
  facts: [
    ...facts_0_1_0,
    { name: "spouseHadNoGrossIncome", type: "boolean", description: "The spouse had no gross income, files no return and cannot be claimed as a dependent." }
  ],
  rules: [...taxRules_0_1_0, taxRule_0_2_0_spouseSeparate]
}
