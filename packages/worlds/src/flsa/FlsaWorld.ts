/**
 * `us-flsa-overtime` 0.1.0: a second, small world written from public rules to show the format is
 * not tax-shaped — whether a worker is owed FLSA overtime for a workweek and how much. Sources:
 * 29 U.S.C. § 207(a)(1) (time and a half over 40 hours), 29 CFR Part 541 (white-collar, computer
 * and outside-sales exemptions; the $684/week salary level in force after the 2024 rule was
 * vacated), 29 CFR § 778.113 (regular rate of a salaried non-exempt employee). Facts are flat.
 */
import type { Rule, WorldModelHeader } from "../RuleSet.ts"
import { type PublishedWorldModel, publishOrThrow } from "../WorldModel.ts"

export const FLSA_WORLD_ID = "us-flsa-overtime"

/**
 * The amounts the rules apply: the one place they are written (the simulated model in
 * `@spectral/adapters` reads them from here too).
 */
export const FLSA_AMOUNTS = {
  /** Weekly salary the white-collar exemptions require, at least (29 CFR § 541.600). */
  salaryLevelPerWeek: 684,
  /** Hourly rate at which a computer employee paid by the hour is exempt, at least (29 CFR § 541.400). */
  computerEmployeeHourlyRate: 27.63,
  /** Annual sales that make an enterprise covered, generally (29 U.S.C. § 203(s)). */
  enterpriseCoverageSales: 500_000,
  /** Hours in a workweek after which overtime is owed (29 U.S.C. § 207(a)(1)). */
  overtimeAfterHours: 40,
  /** Overtime pay per hour as a multiple of the regular rate (time and a half). */
  overtimeRateMultiple: 1.5
} as const

const usd = (amount: number) => `$${amount.toLocaleString("en-US")}`
const { salaryLevelPerWeek, computerEmployeeHourlyRate, enterpriseCoverageSales, overtimeAfterHours, overtimeRateMultiple } = FLSA_AMOUNTS

const USC = "29 U.S.C. (Fair Labor Standards Act)"
const CFR541 = "29 CFR Part 541 (Defining and delimiting the exemptions for executive, administrative, professional, computer and outside sales employees)"
const CFR778 = "29 CFR Part 778 (Overtime compensation)"

const anyExemption = { any: [{ rule: "flsa.exempt.white-collar" }, { rule: "flsa.exempt.computer" }, { rule: "flsa.exempt.outside-sales" }] }
const nonExempt = { outcome: "exemptionStatus", in: ["non_exempt"] }

export const flsaRules: ReadonlyArray<Rule> = [
  {
    id: "flsa.coverage", tier: 1, kind: "definition", title: "Covered employment",
    statement: `The overtime requirement applies to employees of covered enterprises (generally ${usd(enterpriseCoverageSales)} annual sales) or individually engaged in interstate commerce.`,
    citation: { source: USC, section: "§ 203(s) enterprise coverage; § 207(a)(1)" }, stage: 0,
    appliesWhen: { fact: "coveredByFlsa", op: "eq", value: true }
  },
  {
    id: "flsa.salary-level", tier: 1, kind: "definition", title: `Salary basis at ${usd(salaryLevelPerWeek)} per week or more`,
    statement: `The white-collar exemptions require payment on a salary basis of not less than ${usd(salaryLevelPerWeek)} per week.`,
    citation: { source: CFR541, section: "§ 541.600 amount of salary required; § 541.602 salary basis" }, stage: 0,
    appliesWhen: { all: [{ fact: "payBasis", op: "eq", value: "salary" }, { fact: "weeklySalary", op: "gte", value: salaryLevelPerWeek }] },
    contradictions: ["salaried (employees|workers|staff)[^.]{0,30}(are )?(always|automatically) exempt"]
  },
  {
    id: "flsa.exempt.white-collar", tier: 1, kind: "definition", title: "Executive, administrative or professional exemption",
    statement: "An employee paid at the salary level whose primary duty is executive, administrative or professional is exempt from overtime.",
    citation: { source: CFR541, section: "§ 541.100 executive; § 541.200 administrative; § 541.300 professional" }, stage: 0,
    appliesWhen: { all: [{ rule: "flsa.salary-level" }, { fact: "primaryDuty", op: "in", value: ["executive", "administrative", "professional"] }] },
    contradictions: ["job titles? (alone )?(determines?|decides?|makes?)[^.]{0,30}exempt"]
  },
  {
    id: "flsa.exempt.computer", tier: 1, kind: "definition", title: "Computer employee exemption",
    statement: `A computer systems analyst, programmer or software engineer paid at the salary level, or hourly at not less than ${usd(computerEmployeeHourlyRate)} an hour, is exempt.`,
    citation: { source: CFR541, section: "§ 541.400 computer employees" }, stage: 0,
    appliesWhen: {
      all: [
        { fact: "primaryDuty", op: "eq", value: "computer" },
        { any: [{ rule: "flsa.salary-level" }, { all: [{ fact: "payBasis", op: "eq", value: "hourly" }, { fact: "hourlyRate", op: "gte", value: computerEmployeeHourlyRate }] }] }
      ]
    }
  },
  {
    id: "flsa.exempt.outside-sales", tier: 1, kind: "definition", title: "Outside sales exemption",
    statement: "An employee whose primary duty is making sales away from the employer's place of business is exempt; no salary test applies.",
    citation: { source: CFR541, section: "§ 541.500 outside sales employees" }, stage: 0,
    appliesWhen: { fact: "primaryDuty", op: "eq", value: "outside_sales" }
  },
  {
    id: "flsa.status.not-covered", tier: 1, kind: "eligibility", title: "Not covered by the FLSA",
    statement: "A worker outside FLSA coverage is not owed federal overtime (state law may differ).",
    citation: { source: USC, section: "§ 203(s); § 207(a)(1)" }, stage: 1,
    appliesWhen: { not: { rule: "flsa.coverage" } },
    outcome: { kind: "candidate", field: "exemptionStatus", value: "not_covered" }
  },
  {
    id: "flsa.status.exempt", tier: 1, kind: "eligibility", title: "Exempt",
    statement: "A covered employee who meets an exemption is not owed overtime.",
    citation: { source: USC, section: "§ 213(a)(1)" }, stage: 1,
    appliesWhen: { all: [{ rule: "flsa.coverage" }, anyExemption] },
    outcome: { kind: "candidate", field: "exemptionStatus", value: "exempt" }
  },
  {
    id: "flsa.status.non-exempt", tier: 1, kind: "eligibility", title: "Non-exempt",
    statement: "A covered employee who meets no exemption must be paid overtime.",
    citation: { source: USC, section: "§ 207(a)(1)" }, stage: 1,
    appliesWhen: { all: [{ rule: "flsa.coverage" }, { not: anyExemption }] },
    outcome: { kind: "candidate", field: "exemptionStatus", value: "non_exempt" }
  },
  {
    id: "flsa.regular-rate.hourly", tier: 2, kind: "amount", title: "Regular rate of an hourly employee",
    statement: "For an hourly employee the regular rate is the hourly rate.",
    citation: { source: CFR778, section: "§ 778.110 hourly rate employee" }, stage: 2,
    appliesWhen: { all: [nonExempt, { fact: "payBasis", op: "eq", value: "hourly" }] },
    outcome: { kind: "assign", field: "regularRate", value: { fact: "hourlyRate" } }
  },
  {
    id: "flsa.regular-rate.salary", tier: 2, kind: "amount", title: "Regular rate of a salaried non-exempt employee",
    statement: `A weekly salary for a ${overtimeAfterHours}-hour week gives a regular rate of the salary divided by ${overtimeAfterHours}.`,
    citation: { source: CFR778, section: "§ 778.113 salaried employees — general" }, stage: 2,
    appliesWhen: { all: [nonExempt, { fact: "payBasis", op: "eq", value: "salary" }] },
    outcome: { kind: "assign", field: "regularRate", value: { mul: [{ fact: "weeklySalary" }, 1 / overtimeAfterHours] } }
  },
  {
    id: "flsa.overtime", tier: 1, kind: "amount", title: `Time and a half over ${overtimeAfterHours} hours`,
    statement: `A non-exempt employee is paid at least one and one-half times the regular rate for hours worked over ${overtimeAfterHours} in a workweek.`,
    citation: { source: USC, section: "§ 207(a)(1)" }, stage: 3,
    appliesWhen: { all: [nonExempt, { fact: "hoursWorked", op: "gt", value: overtimeAfterHours }] },
    outcome: { kind: "assign", field: "overtimePay", value: { mul: [{ fact: "hoursWorked", plus: -overtimeAfterHours }, { current: "regularRate" }, overtimeRateMultiple] } },
    contradictions: [
      "overtime[^.]{0,40}(only )?(after|over|beyond) (4[1-9]|[5-9]\\d) hours",
      "(straight[- ]time|same rate|regular rate only)[^.]{0,30}(for|on) overtime",
      "(comp(ensatory)? time|time off)[^.]{0,40}instead of overtime pay"
    ]
  },
  {
    id: "flsa.guidance.workweek", tier: 3, kind: "guidance", title: "Each workweek stands alone",
    statement: "Hours are not averaged over two or more weeks; overtime is computed per fixed 168-hour workweek.",
    citation: { source: CFR778, section: "§ 778.104 each workweek stands alone" }, stage: 0,
    appliesWhen: { fact: "hoursWorked", op: "gt", value: overtimeAfterHours }
  }
]

const header: WorldModelHeader = {
  id: FLSA_WORLD_ID,
  version: "0.1.0",
  title: "US Fair Labor Standards Act: overtime eligibility and overtime pay for one workweek",
  domain: "employment",
  description: `Whether a worker is owed federal overtime (coverage, the white-collar, computer and outside-sales exemptions at the ${usd(salaryLevelPerWeek)}/week salary level) and the overtime premium for one workweek.`,
  sources: [
    { source: USC, section: "§ 207(a)(1); § 213(a)(1)" },
    { source: CFR541, section: "§§ 541.100–541.602" },
    { source: CFR778, section: "§§ 778.104–778.113" }
  ],
  facts: [
    { name: "coveredByFlsa", type: "boolean", description: "The employer or the worker is covered by the FLSA." },
    { name: "payBasis", type: "string", values: ["hourly", "salary"], description: "Paid by the hour or a fixed weekly salary." },
    { name: "hourlyRate", type: "number", description: "Hourly rate in dollars (hourly pay)." },
    { name: "weeklySalary", type: "number", description: "Weekly salary in dollars (salary pay)." },
    { name: "hoursWorked", type: "number", description: "Hours worked in the workweek." },
    { name: "primaryDuty", type: "string", values: ["executive", "administrative", "professional", "computer", "outside_sales", "none"], description: "Primary duty category." }
  ],
  outputs: [
    { field: "exemptionStatus", kind: "categorical", preference: ["not_covered", "exempt", "non_exempt"] },
    { field: "regularRate", kind: "numeric", initial: 0 },
    { field: "overtimePay", kind: "numeric", initial: 0 }
  ],
  dimensions: [
    { id: "exemption_status", field: "exemptionStatus", comparison: "exact", weight: 0.6 },
    { id: "overtime_pay", field: "overtimePay", comparison: "numeric_tolerance", tolerance: 0.01, weight: 0.4 }
  ],
  invariants: [
    { id: "inv.no-tier1-contradiction", kind: "no_tier1_contradiction", description: "Guidance may not assert what a tier-1 rule forbids." },
    { id: "inv.required-output-fields", kind: "required_output_fields", description: "The answer carries the exemption status and the overtime pay.", fields: ["exemptionStatus", "overtimePay"] },
    { id: "inv.hyperparameter-bounds", kind: "hyperparameter_bounds", description: "Sampling settings stay in the validated bounds.", bounds: { temperature: { min: 0, max: 1.2 }, maxTokens: { min: 64, max: 4096 } } }
  ],
  segments: {
    hourly_staff: "Hourly workers",
    salaried_below_level: `Salaried under ${usd(salaryLevelPerWeek)} a week`,
    salaried_manager: "Salaried managers and administrators",
    tech_worker: "Programmers and systems analysts",
    field_sales: "Sales made away from the office",
    uncovered_employer: "Workers outside FLSA coverage"
  }
}

export const flsaWorldDefinition_0_1_0 = { ...header, rules: flsaRules }
export const flsaWorld_0_1_0: PublishedWorldModel = publishOrThrow(flsaWorldDefinition_0_1_0)
