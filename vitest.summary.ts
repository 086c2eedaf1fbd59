/**
 * Prints the plain closing line `N passed, N failed` (and skipped) after the default reporter,
 * so any CI reader can count the run without parsing vitest's own summary. A test file that fails
 * outside its tests (a hook such as beforeAll, an import, a syntax error) counts as one failure,
 * and so does every unhandled error: a run whose tests were all skipped by a failing hook is not
 * reported as "0 failed".
 */
import type { Reporter, TestModule } from "vitest/node"

export default class SummaryReporter implements Reporter {
  onTestRunEnd(testModules: ReadonlyArray<TestModule>, unhandledErrors: ReadonlyArray<unknown> = []) {
    let passed = 0
    let failed = 0
    let skipped = 0
    let files = 0
    for (const module of testModules) {
      let failedHere = 0
      for (const test of module.children.allTests()) {
        const state = test.result().state
        if (state === "passed") passed++
        else if (state === "failed") failedHere++
        else skipped++
      }
      failed += failedHere
      if (failedHere === 0 && (module.state() === "failed" || module.errors().length > 0)) files++
    }
    const extra = files + unhandledErrors.length
    const why = [
      files > 0 ? `${files} test file${files === 1 ? "" : "s"} failed outside a test` : "",
      unhandledErrors.length > 0 ? `${unhandledErrors.length} unhandled error${unhandledErrors.length === 1 ? "" : "s"}` : ""
    ].filter((s) => s !== "").join(", ")
    process.stdout.write(`\nspectral: ${passed} passed, ${failed + extra} failed${why === "" ? "" : ` (${why})`}, ${skipped} skipped\n`)
  }
}
