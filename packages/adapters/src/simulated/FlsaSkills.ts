/**
 * The simulated model's second domain: federal overtime (FLSA) for one workweek, for the bench's
 * second team (an extractor that reads the worker's facts, then an overtime calculator). Like the
 * tax skills, it is the simulated model's own imperfect understanding, with blind spots that
 * depend on the prompt: the calculator treats every salaried manager as exempt (the salary
 * level), misses the computer employee's hourly exemption, applies the salary test to outside
 * sales, computes a salaried worker's regular rate from the hours worked instead of 40, and
 * forgets that a small local business is not covered — unless guidance or examples in its prompt
 * name the point. Chain of thought helps, heat misreads and fabricates. The judge knows the rules
 * and explains failures naming the facts. The amounts are the FLSA world's (`FLSA_AMOUNTS` in
 * `@spectral/worlds`).
 */
import { FLSA_AMOUNTS } from "@spectral/worlds"
import type { PromptFeatures, Random } from "./TaxSkills.ts"

const { salaryLevelPerWeek, computerEmployeeHourlyRate, enterpriseCoverageSales, overtimeAfterHours, overtimeRateMultiple } = FLSA_AMOUNTS

/** A pattern matching `text` literally. */
const literally = (text: string) => new RegExp(text.replace(/[.*+?^${}()|[\]\\]/g, "\\$&"))
/** What in a prompt teaches each point (the amounts as the world writes them). */
const teaches = {
  coverage: [/not covered/, literally(enterpriseCoverageSales.toLocaleString("en-US")), /coverage/, /outside flsa/],
  salaryLevel: [literally(String(salaryLevelPerWeek)), /salary level/, /below the .*salary/],
  computerHourly: [literally(String(computerEmployeeHourlyRate)), /computer employee/, /hourly .*computer|computer .*hourly/],
  outsideSales: [/outside sales/, /no salary test/, /away from the employer/],
  salariedRate: [
    literally(`divided by ${overtimeAfterHours}`),
    new RegExp(`\\/ ?${overtimeAfterHours}\\b`),
    new RegExp(`regular rate .*${overtimeAfterHours}`)
  ]
}

/** The overtime premium for the week: hours over the threshold at the overtime multiple of `rate`, in cents. */
const overtimeFor = (hoursWorked: number, rate: number) =>
  Math.round(Math.max(0, hoursWorked - overtimeAfterHours) * rate * overtimeRateMultiple * 100) / 100

export type Duty = "executive" | "administrative" | "professional" | "computer" | "outside_sales" | "none"

export interface WorkerFacts {
  coveredByFlsa: boolean
  payBasis: "hourly" | "salary"
  hourlyRate: number
  weeklySalary: number
  hoursWorked: number
  primaryDuty: Duty
}

/** Which readings were ambiguous (misread more often by a hotter model). */
export const readWorker = (raw: string): { facts: WorkerFacts; ambiguous: ReadonlyArray<keyof WorkerFacts> } => {
  const text = raw.toLowerCase()
  const ambiguous: Array<keyof WorkerFacts> = []
  const hourly = text.match(/paid \$([\d.,]+) an hour/)
  const salary = text.match(/salary of \$([\d.,]+) a week/)
  const hours = text.match(/(?:worked|put in) (\d+) hours/)
  const duty: Duty = /manage the store|run the warehouse|supervise|direct a team/.test(text)
    ? "executive"
    : /hr policy|budget and vendor policy/.test(text)
    ? "administrative"
    : /pharmacist|accountant|cpa/.test(text)
    ? "professional"
    : /write and test software|systems analyst/.test(text)
    ? "computer"
    : /visit customers|door to door/.test(text)
    ? "outside_sales"
    : "none"
  if (/systems analyst|accountant/.test(text)) ambiguous.push("primaryDuty")
  const covered = !/tiny family shop|only sells locally/.test(text)
  if (!covered) ambiguous.push("coveredByFlsa")
  return {
    facts: {
      coveredByFlsa: covered,
      payBasis: salary !== null ? "salary" : "hourly",
      hourlyRate: hourly !== null ? Number(hourly[1]!.replace(/,/g, "")) : 0,
      weeklySalary: salary !== null ? Number(salary[1]!.replace(/,/g, "")) : 0,
      hoursWorked: hours !== null ? Number(hours[1]) : overtimeAfterHours,
      primaryDuty: duty
    },
    ambiguous
  }
}

export type OvertimePath = "not_covered" | "salary_below_level" | "white_collar" | "computer_hourly" | "computer_salary" | "computer_low_hourly" | "outside_sales" | "hourly" | "salaried_nonexempt"

/** The rules as the judge (a strong model) knows them. */
export const overtimeTruth = (f: WorkerFacts): { status: "not_covered" | "exempt" | "non_exempt"; overtimePay: number; regularRate: number; path: OvertimePath } => {
  if (!f.coveredByFlsa) return { status: "not_covered", overtimePay: 0, regularRate: 0, path: "not_covered" }
  const salaryLevel = f.payBasis === "salary" && f.weeklySalary >= salaryLevelPerWeek
  if (f.primaryDuty === "outside_sales") return { status: "exempt", overtimePay: 0, regularRate: 0, path: "outside_sales" }
  if (f.primaryDuty === "computer" && (salaryLevel || (f.payBasis === "hourly" && f.hourlyRate >= computerEmployeeHourlyRate))) {
    return { status: "exempt", overtimePay: 0, regularRate: 0, path: f.payBasis === "hourly" ? "computer_hourly" : "computer_salary" }
  }
  if (salaryLevel && (f.primaryDuty === "executive" || f.primaryDuty === "administrative" || f.primaryDuty === "professional")) {
    return { status: "exempt", overtimePay: 0, regularRate: 0, path: "white_collar" }
  }
  const rate = f.payBasis === "hourly" ? f.hourlyRate : f.weeklySalary / overtimeAfterHours
  const pay = overtimeFor(f.hoursWorked, rate)
  const path: OvertimePath = f.payBasis === "salary" && f.primaryDuty !== "none" && f.primaryDuty !== "computer"
    ? "salary_below_level"
    : f.primaryDuty === "computer" ? "computer_low_hourly" : f.payBasis === "salary" ? "salaried_nonexempt" : "hourly"
  return { status: "non_exempt", overtimePay: pay, regularRate: rate, path }
}

const knows = (p: PromptFeatures, patterns: ReadonlyArray<RegExp>) => patterns.some((re) => re.test(p.system) || re.test(p.examples))
const cotFactor = (p: PromptFeatures) => (p.chainOfThought === "full" ? 0.55 : p.chainOfThought === "brief" ? 0.85 : 1)

/** Extractor: read the worker's facts, with misreadings on ambiguous phrasings and at high temperature. */
export const extractWorker = (stimulus: string, p: PromptFeatures, rng: Random): Record<string, unknown> => {
  const { facts, ambiguous } = readWorker(stimulus)
  const out: Record<string, unknown> = { ...facts }
  const heat = Math.max(0, p.temperature - 0.6)
  for (const key of ambiguous) {
    if (rng.next() < (0.35 + heat * 0.4) * cotFactor(p)) {
      out[key] = key === "coveredByFlsa" ? true : key === "primaryDuty" ? "administrative" : out[key]
    }
  }
  if (rng.next() < heat * 0.25) out["hoursWorked"] = Number(out["hoursWorked"]) + 5
  return out
}

const toWorker = (raw: Record<string, unknown> | undefined, stimulus: string): WorkerFacts => {
  if (raw === undefined) return readWorker(stimulus).facts
  const num = (v: unknown) => (typeof v === "number" ? v : Number(v ?? 0) || 0)
  return {
    coveredByFlsa: raw["coveredByFlsa"] !== false,
    payBasis: raw["payBasis"] === "salary" ? "salary" : "hourly",
    hourlyRate: num(raw["hourlyRate"]),
    weeklySalary: num(raw["weeklySalary"]),
    hoursWorked: num(raw["hoursWorked"]),
    primaryDuty: (raw["primaryDuty"] as Duty) ?? "none"
  }
}

/** Calculator: exemption status and the overtime premium for the week, from the facts it is given. */
export const calculateOvertime = (factsIn: Record<string, unknown> | undefined, stimulus: string, p: PromptFeatures, rng: Random) => {
  const f = toWorker(factsIn, stimulus)
  const truth = overtimeTruth(f)
  const cot = cotFactor(p)
  const miss = (base: number, known: boolean) => rng.next() < (known ? 0.06 : base) * cot
  let status: string = truth.status
  let rate = truth.regularRate
  switch (truth.path) {
    case "not_covered":
      if (miss(0.7, knows(p, teaches.coverage))) status = "non_exempt"
      break
    case "salary_below_level":
      if (miss(0.75, knows(p, teaches.salaryLevel))) status = "exempt"
      break
    case "computer_hourly":
      if (miss(0.65, knows(p, teaches.computerHourly))) status = "non_exempt"
      break
    case "outside_sales":
      if (miss(0.6, knows(p, teaches.outsideSales))) status = "non_exempt"
      break
    default:
      if (rng.next() < 0.03 * cot) status = truth.status === "exempt" ? "non_exempt" : truth.status
  }
  if (status === "non_exempt" && f.payBasis === "salary" && miss(0.7, knows(p, teaches.salariedRate))) {
    rate = f.weeklySalary / Math.max(overtimeAfterHours, f.hoursWorked)
  }
  if (status === "non_exempt" && truth.status !== "non_exempt") rate = f.payBasis === "hourly" ? f.hourlyRate : f.weeklySalary / overtimeAfterHours
  const heat = Math.max(0, p.temperature - 0.5)
  let fabricated = false
  if (rng.next() < heat * 0.3) {
    fabricated = true
    status = status === "exempt" ? "non_exempt" : "exempt"
    if (status === "non_exempt") rate = f.payBasis === "hourly" ? f.hourlyRate : f.weeklySalary / overtimeAfterHours
  }
  const overtimePay = status === "non_exempt" ? overtimeFor(f.hoursWorked, rate) : 0
  const rationale = fabricated
    ? `Since the worker also holds a union contract, the status is ${status}.`
    : `Covered ${f.coveredByFlsa}; duty ${f.primaryDuty}; ${f.payBasis}; status ${status}.`
  return { exemptionStatus: status, overtimePay, rationale }
}

const statusWords: Readonly<Record<string, string>> = { not_covered: "not covered", exempt: "exempt", non_exempt: "non-exempt" }
const money = (x: number) => `$${x.toFixed(2).replace(/\.00$/, "")}`
const usd = (amount: number) => `$${amount.toLocaleString("en-US")}`

/** Judge: score the overtime answer on the rubric's dimensions and explain the main problem. */
export const judgeOvertime = (stimulus: string, answer: Record<string, unknown>, dimensionIds: ReadonlyArray<string>, rng: Random) => {
  const f = readWorker(stimulus).facts
  const truth = overtimeTruth(f)
  const status = String(answer["exemptionStatus"] ?? "").toLowerCase().replace(/[\s-]+/g, "_")
  const pay = Number(answer["overtimePay"])
  const statusOk = status === truth.status
  const payOk = Number.isFinite(pay) && Math.abs(pay - truth.overtimePay) <= 0.01
  const fabricated = /union contract/.test(String(answer["rationale"] ?? "").toLowerCase()) && !/union/.test(stimulus.toLowerCase())
  const was = statusWords[status] ?? (status || "no status")
  let explanation: string
  if (fabricated) {
    explanation = `The answer relies on a fact not stated in the input: it invents a union contract, which was fabricated, and answers ${was}.`
  } else if (!statusOk) {
    switch (truth.path) {
      case "not_covered":
        explanation = `Answered ${was}, but the worker is not covered by the FLSA: a tiny local shop with about $90,000 in yearly sales is under the ${usd(enterpriseCoverageSales)} enterprise coverage, so no federal overtime is owed.`
        break
      case "salary_below_level":
        explanation = `Answered ${was}, but a salary of ${money(f.weeklySalary)} a week is below the ${money(salaryLevelPerWeek)} weekly salary level the white-collar exemptions require, so the worker is non-exempt and owed time and a half; the regular rate is the salary divided by ${overtimeAfterHours}.`
        break
      case "computer_hourly":
        explanation = `Answered ${was}, but a computer employee paid ${money(f.hourlyRate)} an hour, at least ${money(computerEmployeeHourlyRate)} an hour, meets the computer employee exemption and is exempt.`
        break
      case "outside_sales":
        explanation = `Answered ${was}, but an outside sales employee whose primary duty is selling away from the employer's place of business is exempt, with no salary test.`
        break
      case "white_collar":
      case "computer_salary":
        explanation = `Answered ${was}, but the worker is paid ${money(f.weeklySalary)} a week, above the ${money(salaryLevelPerWeek)} salary level, with an exempt primary duty, so the worker is exempt.`
        break
      default:
        explanation = `Answered ${was} where ${statusWords[truth.status]} applies from the stated facts.`
    }
  } else if (!payOk) {
    explanation = f.payBasis === "salary"
      ? `Overtime pay of ${money(pay)} is wrong: a salaried non-exempt worker's regular rate is the weekly salary divided by ${overtimeAfterHours} (${money(truth.regularRate)}), so ${f.hoursWorked - overtimeAfterHours} overtime hours at time and a half come to ${money(truth.overtimePay)}.`
      : `Overtime pay of ${money(pay)} is wrong: ${Math.max(0, f.hoursWorked - overtimeAfterHours)} hours over ${overtimeAfterHours} at one and a half times ${money(f.hourlyRate)} come to ${money(truth.overtimePay)}.`
  } else {
    explanation = `The status (${statusWords[truth.status]}) and the overtime pay (${money(truth.overtimePay)}) follow from the stated facts.`
  }
  const lenient = rng.next() < 0.03
  const scores: Record<string, number> = {}
  for (const id of dimensionIds) {
    const key = id.toLowerCase()
    scores[id] = key.includes("status") || key.includes("exempt")
      ? (statusOk || lenient ? 1 : 0)
      : key.includes("pay") || key.includes("overtime")
      ? (payOk || lenient ? 1 : 0)
      : key.includes("ground")
      ? (fabricated ? 0 : 1)
      : (statusOk && payOk && !fabricated ? 1 : statusOk ? 0.5 : 0.1)
  }
  return { scores, explanation }
}
