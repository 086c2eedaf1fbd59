/**
 * `spectral scans status SCAN_ID [--workspace-id WS]`: where a stored scan stands, as JSON — state,
 * phases done of the total and the one running, verdict, change set, the typed failure, and the
 * submission it came from (`spectral scan --detach`). The workspace is read from the scan id
 * (`WS:scan:N`) unless given. An id no scan of the workspace has is bad input (exit 2).
 */
import { Console, Effect, Option } from "effect"
import { Argument, Command, Flag } from "effect/cli"
import { Storage } from "@spectral/adapters"
import { ScanRepo } from "@spectral/engine"
import { reportFailures } from "../CliFailure.ts"
import { CliInputError } from "../CliIo.ts"
import { statusOf } from "../runners/Submission.ts"

/** The workspace a scan id names (`WS:scan:N`). */
export const workspaceOfScan = (scanId: string): string | undefined => {
  const at = scanId.lastIndexOf(":scan:")
  return at > 0 ? scanId.slice(0, at) : undefined
}

const status = Command.make(
  "status",
  {
    scanId: Argument.String("scan-id").pipe(Argument.withDescription("The scan's id (as `spectral scan` or `--detach` printed it)")),
    workspaceId: Flag.String("workspace-id").pipe(Flag.optional, Flag.withDescription("The scan's workspace (default: read from the id)"))
  },
  Effect.fn(function*({ scanId, workspaceId }) {
    const workspace = Option.getOrElse(workspaceId, () => workspaceOfScan(scanId) ?? "")
    if (workspace === "") return yield* new CliInputError({ file: "scan-id", message: `${JSON.stringify(scanId)} names no workspace (WS:scan:N); give --workspace-id` })
    const scan = yield* Effect.gen(function*() {
      return yield* (yield* ScanRepo).get(workspace, scanId)
    }).pipe(
      Effect.mapError((error) =>
        error._tag === "StorageError" && error.reason._tag === "NotFound"
          ? new CliInputError({ file: "scan-id", message: `no scan ${scanId} in workspace ${workspace}` })
          : error),
      Effect.provide(Storage.layerConfig)
    )
    yield* Console.log(JSON.stringify(statusOf(scan), null, 2))
  }, reportFailures)
).pipe(Command.withDescription("Where a stored scan stands: state, phases, verdict, failure"))

export const scans = Command.make("scans").pipe(
  Command.withDescription("Stored scans (also those running on runners)"),
  Command.withSubcommands([status])
)
