import { assert, describe, it } from "vitest"
import type { AgentVersion } from "../../src/contracts/index.ts"
import { classifyChange } from "../../src/autonomy/ChangeClassifier.ts"

const base: AgentVersion = {
  agentId: "advisor",
  version: 1,
  template: {
    basePrompt: "Decide the filing status.",
    contextSelection: { mode: "full", maxChars: 4000, truncation: "tail" },
    chainOfThought: "none",
    fewShotExamples: [],
    upstreamInjection: { mode: "json", label: "Facts" },
    guidance: [],
    outputFields: ["filingStatus", "standardDeduction"]
  },
  hyperparameters: { provider: "simulated", model: "small", temperature: 0.8, maxTokens: 400 }
}
const edit = (patch: { template?: Partial<AgentVersion["template"]>; hyperparameters?: Partial<AgentVersion["hyperparameters"]> }): AgentVersion => ({
  ...base,
  version: 2,
  template: { ...base.template, ...patch.template },
  hyperparameters: { ...base.hyperparameters, ...patch.hyperparameters }
})

describe("change classifier (auto_test)", () => {
  it("non-breaking: a temperature change within ±0.5, guidance, examples, chain of thought, more tokens, an added field", () => {
    const c = classifyChange([base], [edit({
      hyperparameters: { temperature: 0.4, maxTokens: 800 },
      template: { guidance: ["Check the year of death."], chainOfThought: "brief", fewShotExamples: [{ input: "a", output: "b" }], outputFields: ["filingStatus", "standardDeduction", "rationale"] }
    })])
    assert.isFalse(c.breaking)
    assert.deepStrictEqual(c.reasons, [])
    assert.include(c.nonBreaking, "advisor: temperature 0.8 → 0.4")
    assert.include(c.nonBreaking, "advisor: output field(s) rationale added")
  })
  it("breaking: a removed output field, named", () => {
    const c = classifyChange([base], [edit({ template: { outputFields: ["filingStatus"] } })])
    assert.isTrue(c.breaking)
    assert.deepStrictEqual(c.reasons, ["advisor: output field(s) standardDeduction removed"])
  })
  it("breaking: temperature beyond the bound, a new model, a rewritten prompt, changed upstream injection, max tokens cut below half", () => {
    const reasons = (patch: Parameters<typeof edit>[0]) => classifyChange([base], [edit(patch)]).reasons
    assert.deepStrictEqual(reasons({ hyperparameters: { temperature: 1.5 } }), ["advisor: temperature 0.8 → 1.5 is beyond ±0.5"])
    assert.deepStrictEqual(reasons({ hyperparameters: { model: "large" } }), ["advisor: model changed from simulated/small to simulated/large"])
    assert.deepStrictEqual(reasons({ template: { basePrompt: "Be brief." } }), ["advisor: base prompt rewritten"])
    assert.deepStrictEqual(reasons({ template: { upstreamInjection: { mode: "none", label: "" } } }), ["advisor: upstream injection changed"])
    assert.deepStrictEqual(reasons({ hyperparameters: { maxTokens: 150 } }), ["advisor: max tokens cut from 400 to 150"])
  })
  it("edge: exactly ±0.5 is within the bound; an agent added or removed is breaking; no change is not breaking", () => {
    assert.isFalse(classifyChange([base], [edit({ hyperparameters: { temperature: 0.3 } })]).breaking)
    assert.deepStrictEqual(classifyChange([base], []).reasons, ["agent advisor removed"])
    assert.deepStrictEqual(classifyChange([], [base]).reasons, ["agent advisor added"])
    assert.deepStrictEqual(classifyChange([base], [base]), { breaking: false, reasons: [], nonBreaking: [] })
  })
})
