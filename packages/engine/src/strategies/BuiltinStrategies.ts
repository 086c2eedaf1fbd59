/**
 * The built-in strategies, one module each under `builtin/`, and `builtinStrategies`, the list the
 * scan engine registers. Each targets the agent a failure is blamed on (credit assignment); agents
 * that are not to blame keep their version.
 * - `builtin/hyperparameter_shift` (HyperparameterShift.ts): the documented table
 *   `hyperparameterTable` of failure pattern → adjustment, always within the world model's declared
 *   bounds;
 * - `builtin/few_shot` (FewShot.ts): examples from passing working-set runs resembling each failing
 *   cluster (same segment, most words in common with the cluster's failing inputs), chosen for diversity;
 * - `builtin/rule_guidance` (RuleGuidance.ts): a guidance line per actionable cluster, from the
 *   rubric's explanations;
 * - `builtin/instruction_rewrite` (InstructionRewrite.ts): the language model rewrites the blamed
 *   agent's instruction through a meta-prompt that receives the cluster's explanations (the model is
 *   a port: the simulated model offline, a real one when configured);
 * - `builtin/chain_of_thought` (ChainOfThought.ts): one step more reasoning for each blamed agent;
 * - `builtin/context_selection` (ContextSelection.ts): what the template includes (whole stimulus vs
 *   selected fields, upstream outputs) and how much (truncation), from the documented `contextTable`.
 * Owns no strategy logic; the strategy API is Strategy.ts.
 */
import { chainOfThoughtStrategy } from "./builtin/ChainOfThought.ts"
import { contextSelectionStrategy } from "./builtin/ContextSelection.ts"
import { fewShotStrategy } from "./builtin/FewShot.ts"
import { hyperparameterShiftStrategy } from "./builtin/HyperparameterShift.ts"
import { instructionRewriteStrategy } from "./builtin/InstructionRewrite.ts"
import { ruleGuidanceStrategy } from "./builtin/RuleGuidance.ts"
import type { Strategy } from "./Strategy.ts"

export { chainOfThoughtStrategy } from "./builtin/ChainOfThought.ts"
export { contextSelectionStrategy, contextTable } from "./builtin/ContextSelection.ts"
export { fewShotStrategy } from "./builtin/FewShot.ts"
export { hyperparameterShiftStrategy, hyperparameterTable } from "./builtin/HyperparameterShift.ts"
export {
  explanationsFor,
  instructionRewrite,
  instructionRewriteStrategy,
  type InstructionRewriteSettings,
  META_PROMPT_MARKER,
  metaPrompt
} from "./builtin/InstructionRewrite.ts"
export { guidanceFor, ruleGuidanceStrategy } from "./builtin/RuleGuidance.ts"

export const builtinStrategies: ReadonlyArray<Strategy> = [
  hyperparameterShiftStrategy,
  fewShotStrategy,
  ruleGuidanceStrategy,
  instructionRewriteStrategy,
  chainOfThoughtStrategy,
  contextSelectionStrategy
]
