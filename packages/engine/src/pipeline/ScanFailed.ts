import { Schema } from "effect"
import { PhaseName, ScanFailureCause } from "../contracts/index.ts"

/**
 * A scan that stopped without finishing, or could not be resumed: the phase it stopped in, the
 * typed cause (`ScanFailureCause`) and the sentence a person reads.
 */
export class ScanFailed extends Schema.TaggedError<ScanFailed>()("ScanFailed", {
  scanId: Schema.String,
  phase: PhaseName,
  reason: Schema.String,
  cause: ScanFailureCause
}) {
  override get message(): string {
    return `scan ${this.scanId} failed in ${this.phase}: ${this.reason}`
  }
}
