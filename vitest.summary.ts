/**
 * Prints the plain closing line `N passed, N failed` (and skipped) after the default reporter,
 * so any CI reader can count the run without parsing vitest's own summary.
 */
import type { Reporter, TestModule } from "vitest/node"

export default class SummaryReporter implements Reporter {
  onTestRunEnd(testModules: ReadonlyArray<TestModule>) {
    let passed = 0
    let failed = 0
    let skipped = 0
    for (const module of testModules) {
      for (const test of module.children.allTests()) {
        const state = test.result().state
        if (state === "passed") passed++
        else if (state === "failed") failed++
        else skipped++
      }
    }
    process.stdout.write(`\nspectral: ${passed} passed, ${failed} failed, ${skipped} skipped\n`)
  }
}
