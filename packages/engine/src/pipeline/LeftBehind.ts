/**
 * Scans a stopped process left behind: which one a new run of the same declaration resumes, and
 * why each other one is abandoned: the rule `workflow/ScanSubmissions.ts` plans a run by.
 */
import { type PhaseName, phaseOrder, type Scan } from "../contracts/index.ts"

/** A scan's lease ran out and it was not resumed again: it stopped this many times. */
export const MAX_RESUMES = 3

export const inProgress = (scan: Scan): boolean => scan.state === "scheduled" || scan.state === "running"

export const withoutLease = ({ lease: _lease, ...rest }: Scan): Scan => rest

/** The phase a scan stopped in: the first it had not finished. */
export const stoppedIn = (scan: Scan): PhaseName => phaseOrder.find((phase) => !scan.completedPhases.includes(phase)) ?? "complete"

/** The scan left behind that a run of `seed` on the declaration of `digest` resumes: the newest that fits (`left` is newest first). */
export const resumableAmong = (left: ReadonlyArray<Scan>, seed: number, digest: string): Scan | undefined =>
  left.find((scan) =>
    scan.record?.replayOf === undefined && scan.seed === seed && (scan.declarationDigest === undefined || scan.declarationDigest === digest) &&
    (scan.resumes ?? 0) < MAX_RESUMES)

/** Why a scan left behind is abandoned rather than resumed, in words. */
export const abandonedBecause = (scan: Scan, seed: number, digest: string, resumable: Scan | undefined): string =>
  `its process stopped during ${stoppedIn(scan)}; ` + (
    scan.record?.replayOf !== undefined
      ? `it replayed ${scan.record.replayOf} on the engine built from that record; replay it again with --replay ${scan.record.replayOf}`
      : (scan.resumes ?? 0) >= MAX_RESUMES
      ? `it was resumed ${scan.resumes} times and stopped each time`
      : scan.seed !== seed
      ? `a scan with seed ${seed} was asked for, not ${scan.seed}`
      : scan.declarationDigest !== undefined && scan.declarationDigest !== digest
      ? "the workspace declaration changed since it started"
      : `scan ${resumable?.id ?? "another"} was resumed instead`
  )
