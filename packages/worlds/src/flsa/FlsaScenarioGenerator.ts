/**
 * Worker scenarios for `us-flsa-overtime`, generated per segment from parameter grids; ground
 * truth from the published rules. Phrasings: "I'm paid ${rate} an hour." | "I get a salary of
 * ${salary} a week." | "Last week I worked {h} hours." | "I put in {h} hours this past week." ;
 * duties: "I manage the store and supervise {n} people" (executive), "I handle HR policy for the
 * company" (administrative), "I'm a licensed pharmacist" (professional), "I write and test
 * software" (computer), "I visit customers at their offices to sell" (outside_sales), "I stock
 * shelves / work the register / answer phones" (none); coverage: "a national chain" | "a mid-size
 * company" (covered) vs "a tiny family shop with about $90,000 in yearly sales that only sells
 * locally" (not covered). Expected: { exemptionStatus, overtimePay }; intermediate `facts` are the
 * flat facts (coveredByFlsa, payBasis, hourlyRate, weeklySalary, hoursWorked, primaryDuty).
 */
import type { GeneratedStimulus, ScenarioGenerator } from "../EvalSetGeneration.ts"
import { evaluate } from "../RuleEngine.ts"
import { seededRandom, type SeededRandom } from "../SeededRandom.ts"
import type { PublishedWorldModel } from "../WorldModel.ts"
import { FLSA_WORLD_ID } from "./FlsaWorld.ts"

type Facts = { coveredByFlsa: boolean; payBasis: "hourly" | "salary"; hourlyRate: number; weeklySalary: number; hoursWorked: number; primaryDuty: string }

const DUTIES: Readonly<Record<string, ReadonlyArray<string>>> = {
  executive: ["I manage the store and supervise 6 people.", "I run the warehouse shift and direct a team of 9."],
  administrative: ["I handle HR policy for the company.", "I set the budget and vendor policy for our office."],
  professional: ["I'm a licensed pharmacist.", "I'm a staff accountant with a CPA."],
  computer: ["I write and test software.", "I'm a systems analyst designing our internal tools."],
  outside_sales: ["I visit customers at their offices to sell our equipment.", "I sell insurance door to door."],
  none: ["I stock shelves.", "I work the register.", "I answer phones at the front desk."]
}

const SEGMENTS: Readonly<Record<string, (rng: SeededRandom) => Facts>> = {
  hourly_staff: (rng) => ({ coveredByFlsa: true, payBasis: "hourly", hourlyRate: rng.pick([12, 15.5, 18, 22.75]), weeklySalary: 0, hoursWorked: rng.pick([32, 40, 44, 50]), primaryDuty: "none" }),
  salaried_below_level: (rng) => ({ coveredByFlsa: true, payBasis: "salary", hourlyRate: 0, weeklySalary: rng.pick([520, 600, 680]), hoursWorked: rng.pick([45, 48, 52]), primaryDuty: rng.pick(["executive", "administrative"]) }),
  salaried_manager: (rng) => ({ coveredByFlsa: true, payBasis: "salary", hourlyRate: 0, weeklySalary: rng.pick([700, 950, 1400]), hoursWorked: rng.pick([45, 55]), primaryDuty: rng.pick(["executive", "administrative", "professional", "none"]) }),
  tech_worker: (rng) => {
    const hourly = rng.chance(0.5)
    return { coveredByFlsa: true, payBasis: hourly ? "hourly" : "salary", hourlyRate: hourly ? rng.pick([22, 27.63, 35]) : 0, weeklySalary: hourly ? 0 : rng.pick([650, 1200]), hoursWorked: rng.pick([42, 46, 50]), primaryDuty: "computer" }
  },
  field_sales: (rng) => ({ coveredByFlsa: true, payBasis: rng.pick(["hourly", "salary"] as const), hourlyRate: 14, weeklySalary: 450, hoursWorked: rng.pick([45, 50]), primaryDuty: "outside_sales" }),
  uncovered_employer: (rng) => ({ coveredByFlsa: false, payBasis: "hourly", hourlyRate: rng.pick([11, 13]), weeklySalary: 0, hoursWorked: rng.pick([45, 50]), primaryDuty: "none" })
}

const money = (x: number) => `$${x.toFixed(2).replace(/\.00$/, "")}`

export const flsaScenarioGenerator: ScenarioGenerator = {
  worldModelId: FLSA_WORLD_ID,
  sizeRange: { min: 6, max: 100_000 },
  generate: (model: PublishedWorldModel, { seed, size }): ReadonlyArray<GeneratedStimulus> => {
    const rng = seededRandom(seed)
    const segments = rng.shuffle(Object.keys(SEGMENTS).sort())
    const out: Array<GeneratedStimulus> = []
    for (let i = 0; i < size; i++) {
      const segment = segments[i % segments.length]
      const facts = SEGMENTS[segment](rng)
      const flat = { ...facts, hourlyRate: facts.payBasis === "hourly" ? facts.hourlyRate : 0, weeklySalary: facts.payBasis === "salary" ? facts.weeklySalary : 0 }
      const decision = evaluate(model, flat)
      const clauses = [
        facts.coveredByFlsa ? rng.pick(["I work for a national chain.", "I work for a mid-size company that ships across the country."]) : "I work for a tiny family shop with about $90,000 in yearly sales that only sells locally.",
        rng.pick(DUTIES[facts.primaryDuty]),
        facts.payBasis === "hourly" ? `I'm paid ${money(facts.hourlyRate)} an hour.` : `I get a salary of ${money(facts.weeklySalary)} a week.`,
        rng.pick([`Last week I worked ${facts.hoursWorked} hours.`, `I put in ${facts.hoursWorked} hours this past week.`]),
        ...rng.shuffle(["I've been there three years.", "My manager says I'm doing well.", "I commute by bus."]).slice(0, rng.between(0, 1))
      ]
      const overtime = Number(decision.outputs.overtimePay ?? 0)
      out.push({
        input: `${clauses.join(" ")} Am I owed overtime under federal law, and how much for last week?`,
        expected: { exemptionStatus: String(decision.outputs.exemptionStatus), overtimePay: Math.round(overtime * 100) / 100 },
        intermediate: { facts: flat },
        segment,
        stratification: { workforce: segment, pay_basis: facts.payBasis, long_week: facts.hoursWorked > 40 ? "yes" : "no" },
        stimulusWeight: segment === "tech_worker" || segment === "salaried_below_level" ? 1.5 : 1,
        provenance: "rule_grounded"
      })
    }
    return out
  }
}
