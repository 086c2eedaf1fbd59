import { assert, describe, it } from "@effect/vitest"
import { Result } from "effect"
import { decideTaxSync, type FilingStatus, taxWorld_0_1_0, taxWorld_0_2_0 } from "../src/index.ts"

interface Case {
  readonly name: string
  readonly facts: Record<string, unknown>
  readonly status: FilingStatus
  readonly deduction: number
  readonly alternatives?: ReadonlyArray<FilingStatus>
  readonly fires?: ReadonlyArray<string>
  readonly notFires?: ReadonlyArray<string>
}

const child = (months: number, isDependent = true, relationship = "child") => ({ relationship, monthsLivedInHome: months, isDependent })
const apart = { maritalStatus: "married", wantsJointReturn: false, spouseLivedInHomeLast6Months: false, paidOverHalfHomeCost: true }

// Worked by hand from IRS Publication 501 (2025): Table 6 ($15,750 / $31,500 / $23,625),
// Table 7 ($1,600 married, $2,000 single/HoH), Table 8 (greater of $1,350 or earned + $450).
const cases: ReadonlyArray<Case> = [
  { name: "never married, 30", facts: { maritalStatus: "single" }, status: "single", deduction: 15750, alternatives: [] },
  { name: "single, 65 or older", facts: { maritalStatus: "single", age65OrOlder: true }, status: "single", deduction: 17750 },
  { name: "single, 65 and blind", facts: { maritalStatus: "single", age65OrOlder: true, blind: true }, status: "single", deduction: 19750 },
  { name: "single, blind", facts: { maritalStatus: "single", blind: true }, status: "single", deduction: 17750 },
  { name: "divorced, no qualifying person", facts: { maritalStatus: "divorced" }, status: "single", deduction: 15750 },
  { name: "legally separated under decree", facts: { maritalStatus: "legally_separated" }, status: "single", deduction: 15750, fires: ["status.unmarried"] },
  { name: "married, joint not ruled out", facts: { maritalStatus: "married" }, status: "mfj", deduction: 31500, alternatives: ["mfs"], fires: ["guidance.joint-return-default"] },
  { name: "married jointly, both 65", facts: { maritalStatus: "married", wantsJointReturn: true, age65OrOlder: true, spouseAge65OrOlder: true }, status: "mfj", deduction: 34700 },
  { name: "married jointly, taxpayer 65 and blind, spouse 65", facts: { maritalStatus: "married", wantsJointReturn: true, age65OrOlder: true, blind: true, spouseAge65OrOlder: true }, status: "mfj", deduction: 36300 },
  { name: "married jointly, spouse blind", facts: { maritalStatus: "married", wantsJointReturn: true, spouseBlind: true }, status: "mfj", deduction: 33100 },
  { name: "married separately, spouse at home", facts: { maritalStatus: "married", wantsJointReturn: false, spouseLivedInHomeLast6Months: true }, status: "mfs", deduction: 15750, alternatives: [] },
  { name: "MFS, spouse itemizes", facts: { maritalStatus: "married", wantsJointReturn: false, spouseItemizes: true }, status: "mfs", deduction: 0, fires: ["sd.mfs-spouse-itemizes"] },
  { name: "MFS, 65", facts: { maritalStatus: "married", wantsJointReturn: false, age65OrOlder: true }, status: "mfs", deduction: 17350 },
  { name: "MFS, 65, spouse itemizes: zero", facts: { maritalStatus: "married", wantsJointReturn: false, age65OrOlder: true, spouseItemizes: true }, status: "mfs", deduction: 0 },
  { name: "MFS, spouse 65 (0.1.0 has no spouse rule on a separate return)", facts: { maritalStatus: "married", wantsJointReturn: false, spouseAge65OrOlder: true, spouseHadNoGrossIncome: true }, status: "mfs", deduction: 15750 },
  { name: "MFJ is unaffected by spouseItemizes", facts: { maritalStatus: "married", spouseItemizes: true }, status: "mfj", deduction: 31500 },
  { name: "considered unmarried: child 8 months", facts: { ...apart, qualifyingPerson: child(8) }, status: "hoh", deduction: 23625, alternatives: ["mfs"], fires: ["hoh.considered-unmarried", "fs.hoh"] },
  { name: "considered unmarried but joint not ruled out: MFJ most favourable", facts: { ...apart, wantsJointReturn: undefined, qualifyingPerson: child(8) }, status: "mfj", deduction: 31500, alternatives: ["hoh", "mfs"] },
  { name: "considered unmarried fails: spouse lived in home in last 6 months", facts: { ...apart, spouseLivedInHomeLast6Months: true, qualifyingPerson: child(12) }, status: "mfs", deduction: 15750, notFires: ["hoh.considered-unmarried"] },
  { name: "considered unmarried fails: child exactly 6 months", facts: { ...apart, qualifyingPerson: child(6) }, status: "mfs", deduction: 15750 },
  { name: "considered unmarried fails: did not pay over half", facts: { ...apart, paidOverHalfHomeCost: false, qualifyingPerson: child(12) }, status: "mfs", deduction: 15750 },
  { name: "considered unmarried fails: cannot claim the child", facts: { ...apart, qualifyingPerson: child(12, false) }, status: "mfs", deduction: 15750 },
  { name: "considered unmarried fails: spouse's whereabouts not stated", facts: { ...apart, spouseLivedInHomeLast6Months: undefined, qualifyingPerson: child(12) }, status: "mfs", deduction: 15750 },
  { name: "considered unmarried with a foster child", facts: { ...apart, qualifyingPerson: child(12, true, "foster_child") }, status: "hoh", deduction: 23625 },
  { name: "considered unmarried with a stepchild", facts: { ...apart, qualifyingPerson: child(9, true, "stepchild") }, status: "hoh", deduction: 23625 },
  { name: "considered unmarried needs a child, not a parent", facts: { ...apart, qualifyingPerson: { relationship: "parent", monthsLivedInHome: 0, isDependent: true } }, status: "mfs", deduction: 15750 },
  { name: "considered unmarried, 65: HoH additional $2,000", facts: { ...apart, age65OrOlder: true, qualifyingPerson: child(12) }, status: "hoh", deduction: 25625 },
  { name: "divorced parent, child all year", facts: { maritalStatus: "divorced", paidOverHalfHomeCost: true, qualifyingPerson: child(12) }, status: "hoh", deduction: 23625, alternatives: ["single"] },
  { name: "single parent, child 7 months", facts: { maritalStatus: "single", paidOverHalfHomeCost: true, qualifyingPerson: child(7) }, status: "hoh", deduction: 23625 },
  { name: "single parent, child 6 months: not more than half the year", facts: { maritalStatus: "single", paidOverHalfHomeCost: true, qualifyingPerson: child(6) }, status: "single", deduction: 15750 },
  { name: "single parent who did not pay over half", facts: { maritalStatus: "single", paidOverHalfHomeCost: false, qualifyingPerson: child(12) }, status: "single", deduction: 15750 },
  { name: "HoH, 65 and blind", facts: { maritalStatus: "single", paidOverHalfHomeCost: true, age65OrOlder: true, blind: true, qualifyingPerson: child(12) }, status: "hoh", deduction: 27625 },
  { name: "dependent relative lived with taxpayer 10 months", facts: { maritalStatus: "single", paidOverHalfHomeCost: true, qualifyingPerson: { relationship: "other_relative", monthsLivedInHome: 10, isDependent: true } }, status: "hoh", deduction: 23625 },
  { name: "relative who is not a dependent", facts: { maritalStatus: "single", paidOverHalfHomeCost: true, qualifyingPerson: { relationship: "other_relative", monthsLivedInHome: 12, isDependent: false } }, status: "single", deduction: 15750 },
  { name: "dependent parent living elsewhere: exception", facts: { maritalStatus: "single", paidOverHalfHomeCost: true, qualifyingPerson: { relationship: "parent", monthsLivedInHome: 0, isDependent: true } }, status: "hoh", deduction: 23625, fires: ["hoh.dependent-parent-exception"] },
  { name: "parent not a dependent", facts: { maritalStatus: "single", paidOverHalfHomeCost: true, qualifyingPerson: { relationship: "parent", monthsLivedInHome: 12, isDependent: false } }, status: "single", deduction: 15750 },
  { name: "dependent parent, did not pay over half of the parent's home", facts: { maritalStatus: "divorced", paidOverHalfHomeCost: false, qualifyingPerson: { relationship: "parent", isDependent: true } }, status: "single", deduction: 15750 },
  { name: "spouse died this year: joint return allowed", facts: { maritalStatus: "widowed", spouseDiedYear: 2025 }, status: "mfj", deduction: 31500, alternatives: ["mfs"], fires: ["status.spouse-died-this-year", "fs.mfj"] },
  { name: "spouse died this year, filing separately", facts: { maritalStatus: "widowed", spouseDiedYear: 2025, wantsJointReturn: false }, status: "mfs", deduction: 15750 },
  { name: "spouse died this year, spouse was 65", facts: { maritalStatus: "widowed", spouseDiedYear: 2025, spouseAge65OrOlder: true }, status: "mfj", deduction: 33100 },
  { name: "spouse died this year, child at home: not QSS yet", facts: { maritalStatus: "widowed", spouseDiedYear: 2025, paidOverHalfHomeCost: true, qualifyingPerson: child(12) }, status: "mfj", deduction: 31500, alternatives: ["mfs"], notFires: ["fs.qss"] },
  { name: "QSS: spouse died 2024, child all year", facts: { maritalStatus: "widowed", spouseDiedYear: 2024, paidOverHalfHomeCost: true, qualifyingPerson: child(12) }, status: "qss", deduction: 31500, alternatives: ["hoh", "single"] },
  { name: "QSS: spouse died 2023", facts: { maritalStatus: "widowed", spouseDiedYear: 2023, paidOverHalfHomeCost: true, qualifyingPerson: child(12, true, "stepchild") }, status: "qss", deduction: 31500 },
  { name: "QSS window over: spouse died 2022", facts: { maritalStatus: "widowed", spouseDiedYear: 2022, paidOverHalfHomeCost: true, qualifyingPerson: child(12) }, status: "hoh", deduction: 23625, alternatives: ["single"] },
  { name: "not QSS: child lived 11 months", facts: { maritalStatus: "widowed", spouseDiedYear: 2024, paidOverHalfHomeCost: true, qualifyingPerson: child(11) }, status: "hoh", deduction: 23625 },
  { name: "not QSS: foster child", facts: { maritalStatus: "widowed", spouseDiedYear: 2024, paidOverHalfHomeCost: true, qualifyingPerson: child(12, true, "foster_child") }, status: "hoh", deduction: 23625 },
  { name: "not QSS: child not a dependent", facts: { maritalStatus: "widowed", spouseDiedYear: 2024, paidOverHalfHomeCost: true, qualifyingPerson: child(12, false) }, status: "hoh", deduction: 23625 },
  { name: "not QSS: did not pay over half", facts: { maritalStatus: "widowed", spouseDiedYear: 2024, paidOverHalfHomeCost: false, qualifyingPerson: child(12) }, status: "single", deduction: 15750 },
  { name: "QSS, 65: married additional $1,600", facts: { maritalStatus: "widowed", spouseDiedYear: 2024, paidOverHalfHomeCost: true, age65OrOlder: true, qualifyingPerson: child(12) }, status: "qss", deduction: 33100 },
  { name: "remarried after the spouse's death: married again", facts: { maritalStatus: "married", spouseDiedYear: 2024, remarried: true, paidOverHalfHomeCost: true, qualifyingPerson: child(12) }, status: "mfj", deduction: 31500, notFires: ["fs.qss"] },
  { name: "widowed long ago, no one at home", facts: { maritalStatus: "widowed", spouseDiedYear: 2010, age65OrOlder: true }, status: "single", deduction: 17750 },
  { name: "dependent, no earned income", facts: { maritalStatus: "single", canBeClaimedAsDependent: true, earnedIncome: 0 }, status: "single", deduction: 1350, fires: ["sd.dependent-limit"] },
  { name: "dependent, earned income not stated", facts: { maritalStatus: "single", canBeClaimedAsDependent: true }, status: "single", deduction: 1350 },
  { name: "dependent, earned $900: both give $1,350", facts: { maritalStatus: "single", canBeClaimedAsDependent: true, earnedIncome: 900 }, status: "single", deduction: 1350 },
  { name: "dependent, earned $3,000", facts: { maritalStatus: "single", canBeClaimedAsDependent: true, earnedIncome: 3000 }, status: "single", deduction: 3450 },
  { name: "dependent, earned $20,000: capped at $15,750", facts: { maritalStatus: "single", canBeClaimedAsDependent: true, earnedIncome: 20000 }, status: "single", deduction: 15750 },
  { name: "dependent, blind, earned $2,000", facts: { maritalStatus: "single", canBeClaimedAsDependent: true, earnedIncome: 2000, blind: true }, status: "single", deduction: 4450 },
  { name: "dependent, 65, earned $16,000", facts: { maritalStatus: "single", canBeClaimedAsDependent: true, earnedIncome: 16000, age65OrOlder: true }, status: "single", deduction: 17750 },
  { name: "married dependent on a joint return, earned $5,000", facts: { maritalStatus: "married", canBeClaimedAsDependent: true, earnedIncome: 5000 }, status: "mfj", deduction: 5450 }
]

const strip = (facts: Record<string, unknown>) => Object.fromEntries(Object.entries(facts).filter(([, v]) => v !== undefined))

describe("us-federal-individual-tax 0.1.0: hand-worked cases", () => {
  it("has at least 40 cases", () => assert.isAtLeast(cases.length, 40))
  for (const c of cases) {
    it(c.name, () => {
      const result = decideTaxSync(taxWorld_0_1_0, strip(c.facts))
      assert.isTrue(Result.isSuccess(result), Result.isFailure(result) ? result.failure.message : "")
      const decision = Result.getOrThrow(result)
      assert.strictEqual(decision.filingStatus, c.status)
      assert.strictEqual(decision.standardDeduction, c.deduction)
      if (c.alternatives) assert.deepStrictEqual([...decision.alternatives], [...c.alternatives])
      for (const rule of c.fires ?? []) assert.include(decision.rules, rule)
      for (const rule of c.notFires ?? []) assert.notInclude(decision.rules, rule)
    })
  }
})

describe("invalid facts", () => {
  const invalid: ReadonlyArray<[string, unknown, string]> = [
    ["widowed without the year", { maritalStatus: "widowed" }, "spouseDiedYear is required"],
    ["another tax year", { maritalStatus: "single", taxYear: 2024 }, "taxYear"],
    ["13 months", { maritalStatus: "single", qualifyingPerson: { relationship: "child", monthsLivedInHome: 13 } }, "monthsLivedInHome"],
    ["death after the tax year", { maritalStatus: "widowed", spouseDiedYear: 2026 }, "after the tax year"],
    ["widowed and remarried", { maritalStatus: "widowed", spouseDiedYear: 2024, remarried: true }, "remarried"],
    ["unknown marital status", { maritalStatus: "engaged" }, "maritalStatus"],
    ["negative income", { maritalStatus: "single", earnedIncome: -5 }, "earnedIncome"]
  ]
  for (const [name, facts, fragment] of invalid) {
    it(name, () => {
      const result = decideTaxSync(taxWorld_0_1_0, facts)
      assert.isTrue(Result.isFailure(result))
      if (Result.isFailure(result)) assert.include(result.failure.message, fragment)
    })
  }
})

describe("0.2.0", () => {
  it("adds the spouse's additional amount on a separate return when the spouse had no gross income", () => {
    const facts = { maritalStatus: "married", wantsJointReturn: false, spouseAge65OrOlder: true, spouseBlind: true, spouseHadNoGrossIncome: true }
    assert.strictEqual(Result.getOrThrow(decideTaxSync(taxWorld_0_1_0, facts)).standardDeduction, 15750)
    const v2 = Result.getOrThrow(decideTaxSync(taxWorld_0_2_0, facts))
    assert.strictEqual(v2.standardDeduction, 18950)
    assert.include(v2.rules, "sd.additional.spouse-separate")
    assert.strictEqual(v2.authority.worldModelVersion, "0.2.0")
  })
  it("does not add it when the spouse had income", () => {
    const facts = { maritalStatus: "married", wantsJointReturn: false, spouseAge65OrOlder: true }
    assert.strictEqual(Result.getOrThrow(decideTaxSync(taxWorld_0_2_0, facts)).standardDeduction, 15750)
  })
  it("every rule cites its section of Publication 501", () => {
    for (const rule of taxWorld_0_2_0.definition.rules) {
      assert.include(rule.citation.source, "Publication 501")
      assert.isAbove(rule.citation.section.length, 5)
    }
  })
})
