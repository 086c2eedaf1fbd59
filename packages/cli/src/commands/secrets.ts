/**
 * `spectral secrets set|list|rotate|remove --workspace ID`: a workspace's own provider credentials
 * on the configured store, sealed with AES-256-GCM under the key-encryption key from
 * `SPECTRAL_SECRETS_KEK` / `SPECTRAL_SECRETS_KEK_FILE` (never generated: without one, `set` fails
 * naming the variables). `set NAME` reads the value from stdin (never from the command line, where
 * `ps` would show it) and prints `{"workspaceId","name","kekFingerprint","createdAt"}`; `list` prints
 * `{"workspaceId","secrets":[{name,kekFingerprint,createdAt,rotatedAt?}]}`; `rotate` re-seals every
 * secret of the workspace under the current key (keep the old key in `SPECTRAL_SECRETS_KEK_PREVIOUS`
 * until it has run) and prints `{"workspaceId","rotated":[names],"kekFingerprint"}`; `remove NAME`
 * prints `{"workspaceId","removed"}`. No command prints a secret's value. The secret named
 * `llm-api-key` is what the OpenAI-compatible provider sends for that workspace's calls.
 */
import { Console, Effect, Layer, Redacted } from "effect"
import { Argument, Command, Flag } from "effect/cli"
import { Storage } from "@spectral/adapters"
import { KeyProvider, secretError, WorkspaceSecrets } from "@spectral/engine"
import { WorkspaceId } from "@spectral/engine/contracts"
import { reportFailures } from "../CliFailure.ts"

const workspaceFlag = Flag.String("workspace").pipe(Flag.withSchema(WorkspaceId), Flag.withDescription("The workspace (a non-empty id)"))
const nameArgument = Argument.String("name").pipe(Argument.withDescription("The secret's name, e.g. llm-api-key"))

const secretsLayer = WorkspaceSecrets.layerNoDeps.pipe(Layer.provide(KeyProvider.layerConfig), Layer.provide(Storage.layerConfig))

const withSecrets = <A, E>(use: (secrets: WorkspaceSecrets["Service"]) => Effect.Effect<A, E>) =>
  Effect.flatMap(WorkspaceSecrets, use).pipe(Effect.provide(secretsLayer))

const readStdin = Effect.callback<string, ReturnType<typeof secretError>>((resume) => {
  if (process.stdin.isTTY) {
    resume(Effect.fail(secretError("InvalidSecret", "pipe the secret's value on stdin (e.g. spectral secrets set --workspace W llm-api-key < key.txt)")))
    return
  }
  const chunks: Array<Buffer> = []
  process.stdin.on("data", (chunk: Buffer) => chunks.push(chunk))
  process.stdin.on("end", () => resume(Effect.succeed(Buffer.concat(chunks).toString("utf8").replace(/\r?\n$/, ""))))
  process.stdin.on("error", (error) => resume(Effect.fail(secretError("InvalidSecret", `stdin: ${error.message}`))))
})

const set = Command.make(
  "set",
  { workspace: workspaceFlag, name: nameArgument },
  Effect.fn("secrets.set")(function*({ workspace, name }) {
    const value = Redacted.make(yield* readStdin)
    const info = yield* withSecrets((s) => s.set(workspace, name, value))
    yield* Console.log(JSON.stringify({ workspaceId: workspace, ...info }))
  }, reportFailures)
).pipe(Command.withDescription("Store a secret read from stdin, sealed under the key-encryption key"))

const list = Command.make(
  "list",
  { workspace: workspaceFlag },
  Effect.fn("secrets.list")(function*({ workspace }) {
    const secrets = yield* withSecrets((s) => s.list(workspace))
    yield* Console.log(JSON.stringify({ workspaceId: workspace, secrets }))
  }, reportFailures)
).pipe(Command.withDescription("List a workspace's secrets: names and keys only, never values"))

const rotate = Command.make(
  "rotate",
  { workspace: workspaceFlag },
  Effect.fn("secrets.rotate")(function*({ workspace }) {
    yield* Console.log(JSON.stringify(yield* withSecrets((s) => s.rotate(workspace))))
  }, reportFailures)
).pipe(Command.withDescription("Re-seal every secret of a workspace under the current key-encryption key"))

const remove = Command.make(
  "remove",
  { workspace: workspaceFlag, name: nameArgument },
  Effect.fn("secrets.remove")(function*({ workspace, name }) {
    yield* withSecrets((s) => s.remove(workspace, name))
    yield* Console.log(JSON.stringify({ workspaceId: workspace, removed: name }))
  }, reportFailures)
).pipe(Command.withDescription("Delete a secret"))

export const secrets = Command.make("secrets").pipe(
  Command.withDescription("A workspace's own provider credentials, encrypted at rest (AES-256-GCM, workspace-bound)"),
  Command.withSubcommands([set, list, rotate, remove]),
  Command.withExamples([
    { command: "spectral secrets set --workspace ledger llm-api-key < key.txt", description: "The workspace's own OpenAI key" },
    { command: "spectral secrets list --workspace ledger", description: "Names and key fingerprints, never values" }
  ])
)
