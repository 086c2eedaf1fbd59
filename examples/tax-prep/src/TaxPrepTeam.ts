/**
 * The example workspace: a two-agent tax-prep team (an intake agent that extracts the taxpayer's
 * facts, then a filing-status advisor that depends on it), its evaluation framework and autonomy
 * settings. Declared as plain data and decoded through the engine's Schema, like a host's config.
 */
import { Schema } from "effect"
import { Workspace } from "@spectral/engine/contracts"

const FACT_FIELDS = [
  "taxYear",
  "maritalStatus",
  "spouseDiedYear",
  "remarried",
  "wantsJointReturn",
  "spouseLivedInHomeLast6Months",
  "paidOverHalfHomeCost",
  "qualifyingPersonRelationship",
  "qualifyingPersonMonths",
  "qualifyingPersonIsDependent",
  "age65OrOlder",
  "blind",
  "spouseAge65OrOlder",
  "spouseBlind",
  "canBeClaimedAsDependent",
  "earnedIncome",
  "spouseItemizes",
  "spouseHadNoGrossIncome"
]

export const taxPrepWorkspace = (model: string) => ({
  id: "ledger-tax-prep",
  name: "Ledger tax prep",
  worldModelId: "us-federal-individual-tax",
  agents: [
    {
      id: "advisor",
      name: "Filing-status advisor",
      role: "Decides the filing status and the 2025 standard deduction from the extracted facts.",
      dependsOn: ["intake"],
      template: {
        basePrompt: "You are a tax preparation assistant. From the taxpayer's facts, decide their 2025 federal filing status (single, mfj, mfs, hoh or qss) and their standard deduction in dollars, with a one-sentence rationale.",
        contextSelection: { mode: "full", maxChars: 4000, truncation: "tail" },
        chainOfThought: "none",
        fewShotExamples: [],
        upstreamInjection: { mode: "json", label: "Extracted facts" },
        guidance: [],
        outputFields: ["filingStatus", "standardDeduction", "rationale"]
      },
      hyperparameters: { provider: "simulated", model, temperature: 0.8, maxTokens: 400 }
    },
    {
      id: "intake",
      name: "Intake",
      role: "Extracts the taxpayer's facts from their message.",
      dependsOn: [],
      groundTruthKey: "facts",
      template: {
        basePrompt: "Extract the taxpayer's facts from their message as of December 31, 2025. Use only what the message states; use false, 0 or \"none\" when something is not mentioned.",
        contextSelection: { mode: "full", maxChars: 4000, truncation: "tail" },
        chainOfThought: "none",
        fewShotExamples: [],
        upstreamInjection: { mode: "none", label: "" },
        guidance: [],
        outputFields: FACT_FIELDS.filter((f) => f !== "spouseDiedYear" && f !== "earnedIncome")
      },
      hyperparameters: { provider: "simulated", model, temperature: 0.4, maxTokens: 600 }
    }
  ],
  framework: {
    id: "tax-prep-framework",
    version: 1,
    parent: { id: "us-federal-individual-tax/filing-status", version: 1 },
    rubrics: [{
      id: "filing",
      name: "Filing status advice",
      dimensions: [
        { id: "filing_status", name: "Filing status", description: "The filing status is the one the taxpayer's facts call for.", weight: 0.6 },
        { id: "standard_deduction", name: "Standard deduction", description: "The standard deduction matches the status and the taxpayer's age, sight and dependency.", weight: 0.3 },
        { id: "grounding", name: "Grounding", description: "The answer uses only facts stated by the taxpayer.", weight: 0.1 }
      ]
    }],
    objective: {
      worldModelWeight: 0.6,
      vectors: [
        { name: "quality", kind: "quality", direction: "maximize", weight: 1 },
        { name: "cost", kind: "cost", direction: "minimize", weight: 0.2 },
        { name: "latency", kind: "latency", direction: "minimize", weight: 0.1 }
      ]
    },
    hardConstraints: [{ metric: "parse_failure_rate", op: "<=", value: 0.1 }],
    economics: { maxCallsPerScan: 6000, maxTokensPerScan: 8_000_000, maxUsdPerScan: 10, costPerFailureUsd: 25 },
    verdict: {
      alpha: 0.05,
      minDelta: 0.02,
      maxHoldoutGap: 0.1,
      maxAgentRegression: 0.03,
      maxDimensionRegression: 0.05,
      sanityMaxDelta: 0.6,
      maxInfraFailureRate: 0.05,
      maxParseFailureRate: 0.1,
      minSamples: 30,
      minChangedShare: 0.02,
      maxChangedShare: 0.95,
      maxConvergenceDelta: 0.15
    },
    passThreshold: 0.8,
    epochs: 1,
    evalSetSize: 160,
    optimization: { maxCandidates: 6, maxRounds: 2 }
  },
  autonomy: {
    mode: "bounded_auto",
    killSwitch: false,
    minBlendedDelta: 0.02,
    minWorldModelScore: 0.5,
    maxRulesAffected: 12,
    requireValidatedChangeSet: true
  }
})

/** The workspace, decoded (a malformed declaration fails here, naming the field). */
export const decodeWorkspace = Schema.decodeUnknownEffect(Workspace)
