/** Valid rows for every repository, built for a given workspace and id (shared by every storage suite). */
import type { IngestKey, LegalHold, RetentionEvent, RetentionRecord } from "@spectral/engine"
import type {
  ChangeSet,
  ChangeSetAuditEntry,
  ChangeSetStatus,
  EvalResult,
  EvaluationFramework,
  FailureCluster,
  RubricDivergenceRecord,
  Sample,
  SampleSet,
  Scan,
  ScanSummary,
  ScanTrace,
  TemplateProposal,
  Trace,
  VerdictResult,
  Workspace
} from "@spectral/engine/contracts"

let counter = 0
/** A workspace id no other test uses (suites share one store per backend). */
export const freshWorkspaceId = (label = "ws"): string => `${label}-${Date.now().toString(36)}-${(counter++).toString(36)}`

const instant = (second: number) => new Date(Date.UTC(2025, 0, 1, 0, 0, second)).toISOString()

const framework: EvaluationFramework = {
  id: "framework-1",
  version: 1,
  rubrics: [{
    id: "rubric-1",
    name: "Correctness",
    dimensions: [{ id: "accuracy", name: "Accuracy", description: "Gets the answer right", weight: 1 }]
  }],
  objective: { worldModelWeight: 0.6, vectors: [{ name: "quality", kind: "quality", direction: "maximize", weight: 1 }] },
  hardConstraints: [{ metric: "parse_failure_rate", op: "<=", value: 0.05 }],
  economics: { maxCallsPerScan: 1000, maxTokensPerScan: 1_000_000, maxUsdPerScan: 5, costPerFailureUsd: 12.5 },
  verdict: {
    alpha: 0.05,
    minDelta: 0.02,
    maxHoldoutGap: 0.05,
    maxAgentRegression: 0.03,
    maxDimensionRegression: 0.03,
    sanityMaxDelta: 0.4,
    maxInfraFailureRate: 0.1,
    maxParseFailureRate: 0.1,
    maxJudgeFailureRate: 0.05,
    minJudgeAgreement: 0.7,
    maxConsistencyRegression: 0.05,
    minSamples: 20,
    minChangedShare: 0.05,
    maxChangedShare: 0.9,
    maxConvergenceDelta: 0.2
  },
  passThreshold: 0.7,
  epochs: 1,
  evalSetSize: 40,
  optimization: { maxCandidates: 4, maxRounds: 2 }
}

const template = {
  basePrompt: "Determine the filing status.",
  contextSelection: { mode: "full" as const, maxChars: 4000, truncation: "tail" as const },
  chainOfThought: "brief" as const,
  fewShotExamples: [{ input: "single, no dependents", output: "{\"status\":\"single\"}" }],
  upstreamInjection: { mode: "none" as const, label: "upstream" },
  guidance: [],
  outputFields: ["status"]
}

const hyperparameters = { provider: "simulated", model: "sim-1", temperature: 0.2, maxTokens: 512 }

export const workspace = (id: string, name = "Tax prep"): Workspace => ({
  id,
  name,
  worldModelId: "us-federal-individual-tax",
  agents: [{ id: "intake", name: "Intake", role: "extract facts", dependsOn: [], template, hyperparameters }],
  framework,
  autonomy: {
    mode: "recommend",
    killSwitch: false,
    minBlendedDelta: 0.02,
    minWorldModelScore: 0.8,
    maxRulesAffected: 3,
    requireValidatedChangeSet: true
  }
})

export const scan = (workspaceId: string, id: string, second = 0, state: Scan["state"] = "scheduled"): Scan => ({
  id,
  workspaceId,
  state,
  seed: 42,
  completedPhases: state === "scheduled" ? [] : ["preflight"],
  createdAt: instant(second),
  updatedAt: instant(second)
})

export const attribution: NonNullable<Scan["attribution"]> = {
  worldModelId: "us-federal-individual-tax",
  worldModelVersion: "0.2.0",
  authority: { worldModelId: "us-federal-individual-tax", worldModelVersion: "0.2.0", ruleSetHash: "abc123" },
  generatedAt: instant(1),
  seed: 7
}

/** A completed scan's summary: one agent scored `estimate` on 3 stimuli. */
export const scanSummary = (workspaceId: string, scanId: string, estimate: number): ScanSummary => ({
  scanId,
  workspaceId,
  at: instant(1),
  attribution: { worldModelId: attribution.worldModelId, worldModelVersion: attribution.worldModelVersion },
  agents: [{
    agentId: "reader",
    agentVersion: 2,
    quality: { estimate, low: estimate - 0.125, high: estimate + 0.125, level: 0.95, standardError: 0.0625 },
    stimuli: 3,
    costUsd: 0.001
  }]
})

export const scanTrace = (workspaceId: string, scanId: string, id: string): ScanTrace => ({
  id,
  scanId,
  workspaceId,
  stimulusId: `stimulus-${id}`,
  arm: "baseline",
  epoch: 0,
  provenance: "rule_grounded",
  partition: "working",
  holdoutLayer: "working",
  segment: "single",
  stimulusWeight: 1.5,
  runs: [{
    agentId: "intake",
    agentVersion: 1,
    prompt: "Determine the filing status.",
    rawOutput: "{\"status\":\"single\"}",
    output: { status: "single", nested: { values: [1, 2.5, null, "x"] } },
    status: "ok",
    latencyMs: 12.25,
    inputTokens: 100,
    outputTokens: 20,
    costUsd: 0.000123,
    cached: false
  }],
  status: "ok",
  finalOutput: { status: "single" },
  latencyMs: 12.25,
  costUsd: 0.000123
})

export const evalResult = (workspaceId: string, scanId: string, id: string): EvalResult => ({
  id,
  scanId,
  workspaceId,
  traceId: `trace-${id}`,
  authority: "rubric",
  score: 0.75,
  passed: true,
  dimensions: { accuracy: 0.75 },
  agents: { intake: 0.8 },
  explanation: "Timeout after 30s while reading the W-2"
})

export const failureCluster = (workspaceId: string, scanId: string, id: string): FailureCluster => ({
  id,
  scanId,
  workspaceId,
  label: "timeouts",
  topTerms: ["timeout", "w-2"],
  memberTraceIds: ["t1", "t2"],
  variants: [{ pattern: "30s", memberTraceIds: ["t1"] }, { pattern: "5s", memberTraceIds: ["t2"] }],
  frequencyPct: 12.5,
  effectSize: 18,
  actionable: true,
  representativeExplanations: ["Timeout after 30s"],
  agentBlame: { intake: 1 },
  segments: { single: 2 }
})

export const changeSet = (
  workspaceId: string,
  id: string,
  version: number,
  status: ChangeSetStatus = "proposed"
): ChangeSet => ({
  id,
  workspaceId,
  version,
  baselineId: version === 1 ? null : `${id}-baseline`,
  framework: { id: "framework-1", version: 1 },
  sampleSet: { id: "sample-set-1", version: 1 },
  agents: [{ agentId: "intake", version, template, hyperparameters }],
  explainability: {
    summary: "Lower temperature",
    reasoning: ["fabrication cluster"],
    decisionLog: [{ strategy: "hyperparameters", candidateId: "c1", outcome: "won", reason: "best working delta", workingDelta: 0.04 }],
    clusterOutcomes: [{ clusterId: "k1", label: "timeouts", failureRateBefore: 0.2, failureRateAfter: 0.1, change: { estimate: -0.1, low: -0.15, high: -0.05 } }]
  },
  status,
  scanId: "scan-1",
  authority: null,
  createdAt: instant(version),
  updatedAt: instant(version)
})

export const auditEntry = (workspaceId: string, changeSetId: string, id: string, action = "proposed"): ChangeSetAuditEntry => ({
  id,
  workspaceId,
  changeSetId,
  action,
  actor: "engine",
  from: null,
  to: "proposed",
  detail: `${action} by the scan`,
  at: instant(1)
})

export const sample = (workspaceId: string, id: string, state: Sample["state"] = "active"): Sample => ({
  id,
  workspaceId,
  state,
  traceRef: { _tag: "Live", traceId: `trace-${id}` },
  structuralMetadata: { agents: "1" },
  stratification: { segment: "single" },
  evaluationHistory: [{ scanId: "scan-1", score: 0.5, at: instant(2) }],
  createdAt: instant(2)
})

export const sampleSet = (workspaceId: string, id: string, version: number): SampleSet => ({
  id,
  workspaceId,
  version,
  working: ["s1", "s2"],
  holdout: ["s3"],
  createdAt: instant(version)
})

export const trace = (workspaceId: string, traceId: string, spanId: string): Trace => ({
  id: `${traceId}/${spanId}`,
  workspaceId,
  traceId,
  spanId,
  name: "chat",
  agentName: "intake",
  startTime: instant(1),
  endTime: instant(2),
  attributes: { "gen_ai.request.model": "sim-1", "gen_ai.usage.input_tokens": 10 },
  input: "hello",
  output: "world",
  inputTokens: 10,
  outputTokens: 5
})

export const verdict = (workspaceId: string, scanId: string, outcome: VerdictResult["outcome"] = "go"): VerdictResult => ({
  id: `verdict-${scanId}`,
  scanId,
  workspaceId,
  outcome,
  checksPassed: 41,
  checksTotal: 50,
  checks: [{ gate: "delta_threshold", check: "blended", status: "pass", reason: "delta above minimum", value: 0.04, threshold: 0.02 }],
  delta: { estimate: 0.04, low: 0.01, high: 0.07 },
  explanation: "41 of 50 checks pass"
})

export const divergence = (workspaceId: string, scanId: string): RubricDivergenceRecord => ({
  id: `divergence-${scanId}`,
  scanId,
  workspaceId,
  worldModelScore: { _tag: "Present", value: 0.8 },
  rubricScore: { _tag: "Present", value: 0.7 },
  divergence: { _tag: "Present", value: -0.1 },
  disagreementRate: { _tag: "Absent", reason: "no conformance samples" },
  stimuliCount: 40,
  authority: { worldModelId: "us-federal-individual-tax", worldModelVersion: "0.1.0", ruleSetHash: "abc123" }
})

export const retentionRecord = (
  workspaceId: string,
  traceId: string,
  state: RetentionRecord["state"] = "ACTIVE"
): RetentionRecord => ({
  workspaceId,
  traceId,
  state,
  ingestedAt: instant(1),
  ...(state === "TOMBSTONED" ? { tombstonedAt: instant(9) } : {})
})

export const retentionEvent = (workspaceId: string, id: string, subject: string): RetentionEvent => ({
  id,
  workspaceId,
  subjectKind: "trace",
  subject,
  from: "ACTIVE",
  to: "ORPHANED",
  reason: "no sample references it",
  actor: "retention",
  at: instant(5)
})

export const legalHold = (workspaceId: string, id: string, released = false): LegalHold => ({
  id,
  workspaceId,
  traceIds: ["*"],
  reason: "litigation",
  placedAt: instant(3),
  ...(released ? { releasedAt: instant(8) } : {})
})

export const ingestKey = (workspaceId: string, keyHash: string, label = "collector"): IngestKey => ({
  workspaceId,
  keyHash,
  label,
  createdAt: instant(1)
})

export const templateProposal = (workspaceId: string, id: string): TemplateProposal => {
  const part = <A>(value: A) => ({ value, confidence: 0.8, evidence: "observed" })
  return {
    id,
    workspaceId,
    agentName: "advisor",
    version: 1,
    status: "proposed",
    draft: {
      agentName: "advisor",
      observedPrompts: 6,
      basePrompt: part("You advise on the filing status."),
      contextSelection: part({ mode: "full" as const, maxChars: 2000, truncation: "head" as const }),
      fewShotExamples: part([]),
      chainOfThought: part("full" as const),
      upstreamInjection: { ...part({ mode: "none" as const, label: "" }), from: [] },
      outputFields: part(["filingStatus"])
    },
    template: {
      basePrompt: "You advise on the filing status.",
      contextSelection: { mode: "full", maxChars: 2000, truncation: "head" },
      chainOfThought: "full",
      fewShotExamples: [],
      upstreamInjection: { mode: "none", label: "" },
      guidance: [],
      outputFields: ["filingStatus"]
    },
    fingerprint: "f00d",
    tracesSeen: 6,
    createdAt: instant(4)
  }
}
