import { NodeServices } from "@effect/platform-node"
import { assert, describe, it } from "@effect/vitest"
import { Effect, Exit, FileSystem } from "effect"
import { Command } from "effect/cli"
import { worldCommand } from "../src/commands/world.ts"

const input = {
  cases: [
    { id: "single-65", facts: { taxYear: 2025, maritalStatus: "single", age65OrOlder: true } },
    {
      id: "considered-unmarried",
      facts: {
        maritalStatus: "married",
        wantsJointReturn: false,
        spouseLivedInHomeLast6Months: false,
        paidOverHalfHomeCost: true,
        qualifyingPerson: { relationship: "child", monthsLivedInHome: 9, isDependent: true }
      }
    },
    { id: "qss", facts: { maritalStatus: "widowed", spouseDiedYear: 2024, paidOverHalfHomeCost: true, qualifyingPerson: { relationship: "child", monthsLivedInHome: 12, isDependent: true } } },
    { id: "dependent", facts: { maritalStatus: "single", canBeClaimedAsDependent: true, earnedIncome: 3000 } },
    { id: "bad-widow", facts: { maritalStatus: "widowed" } },
    { id: "bad-status", facts: { maritalStatus: "engaged" } }
  ]
}

const run = (args: ReadonlyArray<string>, document: unknown) =>
  Effect.gen(function*() {
    const fs = yield* FileSystem.FileSystem
    const directory = yield* fs.makeTempDirectoryScoped()
    const inputFile = `${directory}/cases.json`
    const outputFile = `${directory}/out.json`
    yield* fs.writeFileString(inputFile, JSON.stringify(document))
    yield* Command.runWith(worldCommand, { version: "test" })(["decide", ...args, "--input", inputFile, "--output", outputFile])
    return JSON.parse(yield* fs.readFileString(outputFile))
  })

describe("spectral world decide", () => {
  it.effect("prints filing status, standard deduction and the rules that fired; invalid facts give {id, error}", () =>
    Effect.gen(function*() {
      const { results } = yield* run(["--world", "us-federal-individual-tax@0.1.0"], input)
      const byId = new Map<string, any>(results.map((r: { id: string }) => [r.id, r]))
      assert.deepStrictEqual(
        [...byId.values()].slice(0, 4).map((r) => [r.id, r.filingStatus, r.standardDeduction]),
        [["single-65", "single", 17750], ["considered-unmarried", "hoh", 23625], ["qss", "qss", 31500], ["dependent", "single", 3450]]
      )
      assert.include(byId.get("considered-unmarried").rules, "hoh.considered-unmarried")
      assert.deepStrictEqual(byId.get("considered-unmarried").alternatives, ["mfs"])
      assert.deepStrictEqual(byId.get("qss").alternatives, ["hoh", "single"])
      assert.deepStrictEqual(Object.keys(byId.get("bad-widow")).sort(), ["error", "id"])
      assert.include(byId.get("bad-widow").error, "spouseDiedYear")
      assert.include(byId.get("bad-status").error, "maritalStatus")
    }).pipe(Effect.provide(NodeServices.layer)))

  it.effect("0.2.0 is selectable and differs only where its added rule applies", () =>
    Effect.gen(function*() {
      const doc = { cases: [{ id: "mfs-spouse-65", facts: { maritalStatus: "married", wantsJointReturn: false, spouseAge65OrOlder: true, spouseHadNoGrossIncome: true } }] }
      const v1 = yield* run(["--world", "us-federal-individual-tax@0.1.0"], doc)
      const v2 = yield* run(["--world", "us-federal-individual-tax@0.2.0"], doc)
      assert.strictEqual(v1.results[0].standardDeduction, 15750)
      assert.strictEqual(v2.results[0].standardDeduction, 17350)
    }).pipe(Effect.provide(NodeServices.layer)))

  it.effect("an unknown world or version fails", () =>
    Effect.gen(function*() {
      const exit = yield* Effect.exit(run(["--world", "us-federal-individual-tax@9.9.9"], input))
      assert.isTrue(Exit.isFailure(exit))
    }).pipe(Effect.provide(NodeServices.layer)))
})

describe("spectral world card", () => {
  it.effect("renders the card with the exact footer", () =>
    Effect.gen(function*() {
      const fs = yield* FileSystem.FileSystem
      const directory = yield* fs.makeTempDirectoryScoped()
      const out = `${directory}/card.md`
      yield* Command.runWith(worldCommand, { version: "test" })(["card", "--world", "us-federal-individual-tax@0.2.0", "--output", out])
      const text = yield* fs.readFileString(out)
      assert.include(text, "Version: 0.2.0")
      assert.isTrue(text.trimEnd().endsWith("Alpha preview — not for regulated use"))
    }).pipe(Effect.provide(NodeServices.layer)))
})
