/**
 * `npm run bench -- [suite…] [--quick] [--json FILE]`: runs the named suites (all when none is
 * named), prints each suite's table, and with `--json` writes `{"suite":…,"figures":{…}}`
 * (one object for one suite, an array for several).
 */
import * as NodeRuntime from "@effect/platform-node/NodeRuntime"
import * as NodeServices from "@effect/platform-node/NodeServices"
import { Console, Effect, FileSystem } from "effect"
import { suites } from "./suites/index.ts"

const program = Effect.gen(function*() {
  const args = process.argv.slice(2)
  const jsonAt = args.indexOf("--json")
  const jsonFile = jsonAt >= 0 ? args[jsonAt + 1] : undefined
  const quick = args.includes("--quick")
  const names = args.filter((arg, i) => !arg.startsWith("--") && (jsonAt < 0 || i !== jsonAt + 1))
  const unknown = names.filter((name) => !suites.some((suite) => suite.name === name))
  if (unknown.length > 0) {
    yield* Console.error(`unknown suite(s): ${unknown.join(", ")}; known: ${suites.map((s) => s.name).join(", ")}`)
    return yield* Effect.fail(new Error("unknown suite"))
  }
  const selected = names.length === 0 ? suites : suites.filter((suite) => names.includes(suite.name))
  const results: Array<{ suite: string; figures: Record<string, number> }> = []
  for (const suite of selected) {
    yield* Console.log(`\n## ${suite.name} — ${suite.description}${quick ? " (quick)" : ""}\n`)
    const figures = yield* suite.run({ quick })
    results.push({ suite: suite.name, figures })
  }
  if (jsonFile !== undefined) {
    const fs = yield* FileSystem.FileSystem
    const body = results.length === 1 ? results[0] : results
    yield* fs.writeFileString(jsonFile, JSON.stringify(body, null, 2) + "\n")
    yield* Console.log(`\nfigures written to ${jsonFile}`)
  }
})

program.pipe(Effect.provide(NodeServices.layer), NodeRuntime.runMain)
