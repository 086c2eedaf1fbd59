/**
 * The file edge every command reads through (`readJsonFile`, `runCases`) and the failure rule
 * (`describeFailure`), in process: each kind of bad input names the file and the problem, and the
 * exit code follows the documented rule. `CliEdges.test.ts` checks the same from outside.
 */
import { NodeServices } from "@effect/platform-node"
import { assert, describe, it } from "@effect/vitest"
import { Cause, Effect, Exit, FileSystem, Schema } from "effect"
import { CliError, Command } from "effect/cli"
import { fileURLToPath } from "node:url"
import { describeFailure } from "../src/CliFailure.ts"
import { CliInputError, MaxInputBytes, readJsonFile, runCases } from "../src/CliIo.ts"
import { worldCommand } from "../src/commands/world.ts"

const readError = (file: string, maxInputBytes?: number) =>
  Effect.flip(maxInputBytes === undefined ? readJsonFile(file) : readJsonFile(file).pipe(Effect.provideService(MaxInputBytes, maxInputBytes)))

describe("readJsonFile", () => {
  it.effect("empty, blank, not JSON, truncated, not UTF-8, missing, a directory: a CliInputError naming the file", () =>
    Effect.gen(function*() {
      const fs = yield* FileSystem.FileSystem
      const directory = yield* fs.makeTempDirectoryScoped()
      const cases: ReadonlyArray<readonly [string, string | Uint8Array, string]> = [
        ["empty.json", "", "is empty"],
        ["blank.json", " \n\t\n", "is empty"],
        ["prose.json", "cases: [1, 2]\n", "is not valid JSON"],
        ["truncated.json", `{"cases":[{"id":"a",`, "is not valid JSON"],
        ["latin1.json", new Uint8Array([0x7b, 0x22, 0xe9, 0x22, 0x7d]), "is not UTF-8"]
      ]
      for (const [name, content, problem] of cases) {
        const file = `${directory}/${name}`
        yield* typeof content === "string" ? fs.writeFileString(file, content) : fs.writeFile(file, content)
        const error = yield* readError(file)
        assert.strictEqual(error._tag, "CliInputError")
        assert.strictEqual(error.file, file)
        assert.include(error.message, problem, name)
      }
      assert.include((yield* readError(`${directory}/absent.json`)).message, "cannot read: no such file")
      assert.include((yield* readError(directory)).message, "is a directory")
    }).pipe(Effect.provide(NodeServices.layer)))

  it.effect("a file over the cap is refused before it is read; an endless one after cap + 1 bytes", () =>
    Effect.gen(function*() {
      const fs = yield* FileSystem.FileSystem
      const directory = yield* fs.makeTempDirectoryScoped()
      const file = `${directory}/cases.json`
      yield* fs.writeFileString(file, JSON.stringify({ cases: [1, 2, 3] }))
      assert.include((yield* readError(file, 10)).message, "is 17 bytes, more than the input limit of 10 bytes")
      assert.deepStrictEqual(yield* readJsonFile(file).pipe(Effect.provideService(MaxInputBytes, 17)), { cases: [1, 2, 3] })
      const endless = yield* readError("/dev/zero", 1024 * 1024)
      assert.include(endless.message, "is larger than the input limit of 1048576 bytes (1 MiB)")
      assert.include(endless.message, "--max-input-bytes")
    }).pipe(Effect.provide(NodeServices.layer)))
})

describe("runCases", () => {
  const run = runCases(Schema.Struct({ id: Schema.String, n: Schema.Number }), (c) => Effect.succeed({ id: c.id, double: c.n * 2 }))

  it.effect("a document that is not {\"cases\":[…]} is a CliInputError naming the source", () =>
    Effect.gen(function*() {
      for (const document of [null, "cases", [], { rows: [] }, { cases: null }, { cases: { a: 1 } }]) {
        const error = yield* Effect.flip(run(document, "in.json"))
        assert.strictEqual(error.file, "in.json")
        assert.include(error.message, `expected {"cases":[…]}`)
        assert.notInclude(error.message, "\n")
      }
    }))

  it.effect("a case that does not decode is {id, error} (#index without a string id); the others run", () =>
    Effect.gen(function*() {
      const { results } = yield* run({ cases: [{ id: "a", n: 1 }, { id: "no-n" }, { id: 3, n: 1 }, null, { id: "b", n: 2 }] })
      assert.deepStrictEqual(results.map((r) => r.id), ["a", "no-n", "#2", "#3", "b"])
      assert.deepStrictEqual(results[0], { id: "a", double: 2 })
      assert.deepStrictEqual(results[4], { id: "b", double: 4 })
      const errorOf = (i: number) => (results[i] as { readonly error: string }).error
      assert.strictEqual(errorOf(1), `invalid case: Missing key at ["n"]`)
      assert.include(errorOf(2), `at ["id"]`)
      assert.include(errorOf(3), "Expected object")
    }))
})

describe("the failure rule", () => {
  it("bad input exits 2, anything else 1; messages are one line without our source paths", () => {
    const input = describeFailure(Cause.fail(new CliInputError({ file: "cases.json", message: "is empty\n(expected JSON)" })))
    assert.deepStrictEqual(input, { code: 2, message: "cases.json: is empty (expected JSON)" })
    const usage = describeFailure(Cause.fail(new CliError.ShowHelp({ commandPath: ["spectral", "bootstrap"], errors: [new CliError.MissingOption({ option: "input" })] })))
    assert.strictEqual(usage.code, 2)
    assert.include(usage.message, "--input")
    assert.include(usage.message, "spectral bootstrap --help")
    class StoreDown extends Schema.TaggedError<StoreDown>()("StoreDown", { message: Schema.String }) {}
    assert.deepStrictEqual(describeFailure(Cause.fail(new StoreDown({ message: "connection refused" }))), { code: 1, message: "StoreDown: connection refused" })
    const ours = fileURLToPath(new URL("../src/CliIo.ts", import.meta.url))
    const defect = describeFailure(Cause.die(new Error(`Cannot find module '${ours}'`)))
    assert.strictEqual(defect.code, 1)
    assert.match(defect.message, /^internal error: Cannot find module/)
    assert.notInclude(defect.message, ours)
  })

  it.effect("spectral world card with an unknown world fails with exit code 2, naming it", () =>
    Effect.gen(function*() {
      const exit = yield* Effect.exit(Command.runWith(worldCommand, { version: "test" })(["card", "--world", "no-such-world"]))
      assert.isTrue(Exit.isFailure(exit))
      if (!Exit.isFailure(exit)) return
      const error = Cause.squash(exit.cause) as { _tag: string; code: number; message: string }
      assert.strictEqual(error._tag, "CliFailed")
      assert.strictEqual(error.code, 2)
      assert.include(error.message, "no-such-world")
    }).pipe(Effect.provide(NodeServices.layer)))
})
