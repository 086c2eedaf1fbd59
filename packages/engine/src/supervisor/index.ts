/**
 * The supervisor (ADR-030): per agent, the mode of its scan history (ACTIVE, PLATEAU, FRONTIER,
 * NO_DATA) across world-model versions, from per-scan summaries built out of stored scans.
 */
export * from "./ScanSummary.ts"
export * from "./ScanHistory.ts"
export * from "./Supervisor.ts"
