/**
 * `spectral scan` as separate OS processes, for the suites that probe it from outside: a workspace
 * file (the example team, small), a child process per run (`node --conditions=@spectral/source
 * packages/cli/src/bin.ts scan …`) whose output is collected and which can be killed with SIGKILL,
 * and an OpenAI-compatible provider on loopback (the adapters' fake server) that answers like the
 * simulated model, so a scan through the real `openai` SDK behaves like a simulated one — or fails,
 * hangs or echoes the key, as a test tells it to.
 */
import { simulatedAnswer, Storage } from "@spectral/adapters"
import { Deferred, Effect, Schedule, type Scope } from "effect"
import { SqlClient } from "effect/sql"
import { spawn } from "node:child_process"
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs"
import { createServer } from "node:net"
import { tmpdir } from "node:os"
import { join } from "node:path"
import * as FakeOpenAiServer from "../../adapters/test/llm/FakeOpenAiServer.ts"

const bin = join(import.meta.dirname, "..", "src", "bin.ts")
const example = JSON.parse(readFileSync(join(import.meta.dirname, "..", "..", "..", "examples", "tax-prep", "workspace.json"), "utf8"))

/** The example team with a small eval set and a short optimization (fast scans), under `id`. */
export const smallWorkspace = (id: string) => ({
  ...example,
  id,
  framework: { ...example.framework, evalSetSize: 30, optimization: { maxCandidates: 3, maxRounds: 1 } }
})

/** A temporary folder holding `workspace.json`; removed with the scope. */
export const scratch = (workspace: unknown): Effect.Effect<{ readonly dir: string; readonly file: string }, never, Scope.Scope> =>
  Effect.acquireRelease(
    Effect.sync(() => {
      const dir = mkdtempSync(join(tmpdir(), "spectral-cli-process-"))
      const file = join(dir, "workspace.json")
      writeFileSync(file, JSON.stringify(workspace))
      return { dir, file }
    }),
    ({ dir }) => Effect.sync(() => rmSync(dir, { recursive: true, force: true }))
  )

export interface Exited {
  readonly code: number | null
  readonly signal: NodeJS.Signals | null
  readonly stdout: string
  readonly stderr: string
}

export interface ScanProcess {
  readonly pid: number
  readonly output: () => string
  readonly exit: Effect.Effect<Exited>
  readonly kill: (signal: NodeJS.Signals) => Effect.Effect<void>
}

/**
 * Start `node --conditions=@spectral/source SCRIPT ARGS…` with `env` on top of this process's
 * environment (a value of `undefined` removes a variable). Killed with the scope if still running.
 */
export const startNode = (script: string, args: ReadonlyArray<string>, env: Record<string, string | undefined>): Effect.Effect<ScanProcess, never, Scope.Scope> =>
  Effect.gen(function*() {
    const exited = yield* Deferred.make<Exited>()
    const merged: Record<string, string> = {}
    for (const [key, value] of Object.entries({ ...process.env, ...env })) if (value !== undefined) merged[key] = value
    const child = yield* Effect.acquireRelease(
      Effect.sync(() => spawn(process.execPath, ["--conditions=@spectral/source", script, ...args], { env: merged, stdio: ["ignore", "pipe", "pipe"] })),
      (child) => Effect.sync(() => void (child.exitCode === null && child.signalCode === null ? child.kill("SIGKILL") : undefined))
    )
    let stdout = ""
    let stderr = ""
    child.stdout.on("data", (chunk: Buffer) => void (stdout += chunk.toString("utf8")))
    child.stderr.on("data", (chunk: Buffer) => void (stderr += chunk.toString("utf8")))
    child.on("close", (code, signal) => Deferred.doneUnsafe(exited, Effect.succeed({ code, signal, stdout, stderr })))
    return {
      pid: child.pid ?? -1,
      output: () => stdout + stderr,
      exit: Deferred.await(exited),
      kill: (signal) => Effect.sync(() => void child.kill(signal))
    } satisfies ScanProcess
  })

/** Start `spectral scan --workspace FILE …` (see `startNode`). */
export const startScan = (file: string, env: Record<string, string | undefined>, args: ReadonlyArray<string> = []): Effect.Effect<ScanProcess, never, Scope.Scope> =>
  startNode(bin, ["scan", "--workspace", file, ...args], env)

/** Run `spectral ARGS…` to its end. */
export const runCli = (args: ReadonlyArray<string>, env: Record<string, string | undefined>) =>
  Effect.scoped(Effect.flatMap(startNode(bin, args, env), (process) => process.exit))

/** Run a scan to its end. */
export const runScan = (file: string, env: Record<string, string | undefined>, args: ReadonlyArray<string> = []) =>
  Effect.scoped(Effect.flatMap(startScan(file, env, args), (process) => process.exit))

/** The environment of a scan through the OpenAI-compatible provider at `baseUrl`. */
export const providerEnv = (baseUrl: string, apiKey: string): Record<string, string | undefined> => ({
  SPECTRAL_LLM: "openai",
  OPENAI_BASE_URL: baseUrl,
  OPENAI_API_KEY: apiKey,
  SPECTRAL_LLM_MAX_RETRIES: "2",
  SPECTRAL_LLM_TIMEOUT_MS: "10000",
  SPECTRAL_DATABASE_URL: undefined,
  SPECTRAL_DATABASE_OWNER_URL: undefined
})

const textOf = (messages: ReadonlyArray<{ readonly role: string; readonly content: unknown }>, role: string) =>
  messages.filter((m) => m.role === role).map((m) => (typeof m.content === "string" ? m.content : "")).join("\n")

/** What the simulated model would answer to this chat request. */
export const simulatedReply = (request: FakeOpenAiServer.ReceivedRequest): FakeOpenAiServer.Reply => {
  const messages = (request.body?.messages ?? []) as ReadonlyArray<{ readonly role: string; readonly content: unknown }>
  const content = simulatedAnswer(textOf(messages, "system"), textOf(messages, "user"), {
    temperature: Number(request.body?.temperature ?? 0),
    epoch: 0,
    seed: request.body?.seed
  }, 1)
  return { kind: "ok", content, usage: { prompt_tokens: 200, completion_tokens: 60 } }
}

/** A provider on loopback answering like the simulated model (replace `defaultChat` to make it misbehave). */
export const simulatedProvider = Effect.map(FakeOpenAiServer.start, (server) => {
  server.defaultChat = simulatedReply
  return server
})

/** A loopback port nothing listens on. */
export const deadPort = Effect.callback<number>((resume) => {
  const server = createServer()
  server.listen(0, "127.0.0.1", () => {
    const address = server.address()
    const port = typeof address === "object" && address !== null ? address.port : 0
    server.close(() => resume(Effect.succeed(port)))
  })
})

/** Poll until `condition` holds (every 20 ms, at most `timeoutMs`). */
export const waitUntil = (condition: () => boolean, what: string, timeoutMs = 60_000) =>
  Effect.sync(condition).pipe(
    Effect.repeat({ schedule: Schedule.spaced("20 millis"), until: (done) => done }),
    Effect.timeoutOrElse({ duration: timeoutMs, orElse: () => Effect.die(new Error(`timed out waiting for ${what}`)) }),
    Effect.asVoid
  )

/** Every row of every table in schema spectral, as text, and the tables' names (the embedded store's own role sees all). */
export const everyRow = (dataDir: string) =>
  Effect.gen(function*() {
    const sql = yield* SqlClient.SqlClient
    const tables = yield* sql<{ readonly name: string }>`
      SELECT table_name AS name FROM information_schema.tables WHERE table_schema = 'spectral' ORDER BY table_name`
    const dumps = yield* Effect.forEach(tables, (t) =>
      sql<{ readonly row: string }>`SELECT r::text AS row FROM ${sql(`spectral.${t.name}`)} AS r`.pipe(
        Effect.map((rows) => `${t.name}: ${rows.map((r) => r.row).join("\n")}`)
      ))
    return { tables: tables.map((t) => t.name), text: dumps.join("\n") }
  }).pipe(Effect.provide(Storage.layerPgliteClient({ dataDir })), Effect.scoped)
