/**
 * A deliberately weak configuration of the example tax-prep team (the optimize benchmark's
 * starting point): hot sampling on both agents, a bare advisor instruction and no reasoning.
 * Everything else — agents, framework, world — is the tax-prep example's.
 */
import { taxPrepWorkspace } from "../../tax-prep/src/TaxPrepTeam.ts"

export const weakTaxWorkspace = (model: string) => {
  const base = taxPrepWorkspace(model)
  return {
    ...base,
    id: "ledger-tax-prep-weak",
    name: "Ledger tax prep (weak start)",
    agents: base.agents.map((agent) =>
      agent.id === "advisor"
        ? {
          ...agent,
          template: { ...agent.template, basePrompt: "Decide the taxpayer's 2025 filing status (single, mfj, mfs, hoh or qss) and standard deduction in dollars, with a one-sentence rationale." },
          hyperparameters: { ...agent.hyperparameters, temperature: 1.0 }
        }
        : { ...agent, hyperparameters: { ...agent.hyperparameters, temperature: 1.0 } }
    ),
    framework: { ...base.framework, optimization: { maxCandidates: 8, maxRounds: 2 } },
    autonomy: { ...base.autonomy, mode: "manual" as const }
  }
}
