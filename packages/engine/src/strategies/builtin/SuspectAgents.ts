/**
 * What the table-driven built-in strategies share: which agents have evidence against them
 * (`suspectAgents`, defined once in Strategy.ts and used by the optimize phase too, so a strategy
 * never targets an agent the phase would undo), and whether an adjustment changed an agent at all
 * (`sameConfig`). Owns no strategy.
 */
import type { AgentVersion } from "../../contracts/index.ts"

export { suspectAgents } from "../Strategy.ts"

export const sameConfig = (a: AgentVersion, b: AgentVersion) => JSON.stringify(a) === JSON.stringify(b)
