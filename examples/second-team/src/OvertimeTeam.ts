/**
 * The bench's second team, in a different domain: a payroll help desk that answers "am I owed
 * overtime, and how much?" — an extractor that reads the worker's facts, then an overtime
 * calculator that depends on it — evaluated against the `us-flsa-overtime` world. No strategy
 * was written for this domain. The declared configuration is deliberately weak (hot sampling, a
 * bare instruction, no reasoning), the starting point of the optimize benchmark.
 */
import { Schema } from "effect"
import { Workspace } from "@spectral/engine/contracts"

export const overtimeWorkspace = (model: string) => ({
  id: "payroll-overtime-desk",
  name: "Payroll overtime desk",
  worldModelId: "us-flsa-overtime",
  agents: [
    {
      id: "calculator",
      name: "Overtime calculator",
      role: "Decides whether the worker is owed federal overtime for the week and how much overtime premium.",
      dependsOn: ["extractor"],
      template: {
        basePrompt: "You answer payroll questions. From the worker's facts, say whether they are exempt, non_exempt or not_covered under federal overtime law, and the overtime pay owed for the week in dollars, with a one-sentence rationale.",
        contextSelection: { mode: "full", maxChars: 4000, truncation: "tail" },
        chainOfThought: "none",
        fewShotExamples: [],
        upstreamInjection: { mode: "json", label: "Worker facts" },
        guidance: [],
        outputFields: ["exemptionStatus", "overtimePay", "rationale"]
      },
      hyperparameters: { provider: "simulated", model, temperature: 0.9, maxTokens: 300 }
    },
    {
      id: "extractor",
      name: "Fact extractor",
      role: "Reads the worker's message into flat facts: coverage, pay basis and rate, hours, primary duty.",
      dependsOn: [],
      groundTruthKey: "facts",
      template: {
        basePrompt: "Extract the worker's facts from their message.",
        contextSelection: { mode: "full", maxChars: 4000, truncation: "tail" },
        chainOfThought: "none",
        fewShotExamples: [],
        upstreamInjection: { mode: "none", label: "" },
        guidance: [],
        outputFields: ["coveredByFlsa", "payBasis", "hourlyRate", "weeklySalary", "hoursWorked", "primaryDuty"]
      },
      hyperparameters: { provider: "simulated", model, temperature: 0.9, maxTokens: 300 }
    }
  ],
  framework: {
    id: "overtime-framework",
    version: 1,
    rubrics: [{
      id: "overtime",
      name: "Overtime answer",
      dimensions: [
        { id: "exemption_status", name: "Exemption status", description: "The worker's status (exempt, non-exempt, not covered) is the one the facts call for.", weight: 0.6 },
        { id: "overtime_pay", name: "Overtime pay", description: "The overtime premium for the week is right to the cent.", weight: 0.3 },
        { id: "grounding", name: "Grounding", description: "The answer uses only facts the worker stated.", weight: 0.1 }
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
    economics: { maxCallsPerScan: 6000, maxTokensPerScan: 8_000_000, maxUsdPerScan: 10, costPerFailureUsd: 40 },
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
    evalSetSize: 96,
    optimization: { maxCandidates: 8, maxRounds: 2 }
  },
  autonomy: {
    mode: "manual",
    killSwitch: false,
    minBlendedDelta: 0.02,
    minWorldModelScore: 0.5,
    maxRulesAffected: 12,
    requireValidatedChangeSet: true
  }
})

export const decodeWorkspace = Schema.decodeUnknownEffect(Workspace)
