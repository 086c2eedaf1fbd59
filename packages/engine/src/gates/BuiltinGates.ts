/** The gates every verdict runs unless a host replaces the registry. */
import { consistencyGate } from "./ConsistencyGate.ts"
import { hardConstraintsGate } from "./HardConstraintGate.ts"
import { judgeAgreementGate } from "./JudgeAgreementGate.ts"
import { convergenceGate, outputSimilarityGate, paretoGate } from "./OutputGates.ts"
import { bootstrapCiGate, deltaThresholdGate, holdoutGapGate, sanityDowngradeGate } from "./QualityGates.ts"
import { agentRegressionGate, dimensionRegressionGate } from "./RegressionGates.ts"

export const builtinGates = [
  deltaThresholdGate,
  agentRegressionGate,
  dimensionRegressionGate,
  holdoutGapGate,
  bootstrapCiGate,
  outputSimilarityGate,
  paretoGate,
  sanityDowngradeGate,
  convergenceGate,
  judgeAgreementGate,
  consistencyGate,
  hardConstraintsGate
] as const
