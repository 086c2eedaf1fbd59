/**
 * A workspace's own secrets (provider credentials): set, reveal, list, remove and rotate, sealed by
 * `SecretCipher` under the `KeyProvider`'s key and stored through `WorkspaceSecretRepo` (row-level
 * security on SQL). `list` returns names and metadata only; `reveal` returns a `Redacted` value that
 * prints as `<redacted>`. `rotate` re-seals every secret of a workspace under the current key.
 * `WorkspaceCredentials` is what a model provider reads per call: the workspace's `llm-api-key`,
 * opened once per workspace and process (set/remove/rotate through this service clear it).
 */
import { Clock, Context, Effect, Layer, Option, Redacted } from "effect"
import { WorkspaceSecretRepo, type WorkspaceSecretRecord } from "../ports/Repositories.ts"
import type { StorageError } from "../ports/StorageError.ts"
import { KeyProvider } from "./KeyProvider.ts"
import { open, seal } from "./SecretCipher.ts"
import { SecretError, secretError } from "./SecretError.ts"

/** The secret a model provider uses as its API key when the workspace has one. */
export const LlmApiKeySecret = "llm-api-key"

/** What `list` shows: never a value. */
export interface SecretInfo {
  readonly name: string
  readonly kekFingerprint: string
  readonly createdAt: string
  readonly rotatedAt?: string
}

export interface RotationReport {
  readonly workspaceId: string
  readonly rotated: ReadonlyArray<string>
  readonly kekFingerprint: string
}

const namePattern = /^[a-z0-9][a-z0-9._-]{0,63}$/

const fromStorage = (error: StorageError) =>
  error.reason._tag === "NotFound" ? secretError("NotFound", error.message) : secretError("Storage", error.message)

export class WorkspaceSecrets extends Context.Service<WorkspaceSecrets, {
  readonly set: (workspaceId: string, name: string, value: Redacted.Redacted<string>) => Effect.Effect<SecretInfo, SecretError>
  readonly reveal: (workspaceId: string, name: string) => Effect.Effect<Redacted.Redacted<string>, SecretError>
  readonly list: (workspaceId: string) => Effect.Effect<ReadonlyArray<SecretInfo>, SecretError>
  readonly remove: (workspaceId: string, name: string) => Effect.Effect<void, SecretError>
  readonly rotate: (workspaceId: string) => Effect.Effect<RotationReport, SecretError>
  /** The workspace's `llm-api-key`, if set (cached per workspace in this process). */
  readonly apiKeyFor: (workspaceId: string) => Effect.Effect<Option.Option<Redacted.Redacted<string>>, SecretError>
}>()("@spectral/engine/secrets/WorkspaceSecrets") {
  static readonly layerNoDeps = Layer.effect(WorkspaceSecrets, Effect.suspend(() => make))
  /** Also provides `WorkspaceCredentials` from it. */
  static readonly layerWithCredentials = Layer.effectContext(
    Effect.map(Effect.suspend(() => make), (secrets) =>
      Context.make(WorkspaceSecrets, secrets).pipe(Context.add(WorkspaceCredentials, { apiKeyFor: secrets.apiKeyFor })))
  )
}

/**
 * Per-call credentials for model providers: the default has none (the provider's configured key is
 * used); `WorkspaceSecrets.layerWithCredentials` supplies the workspace's own.
 */
export const WorkspaceCredentials = Context.Reference<{
  readonly apiKeyFor: (workspaceId: string) => Effect.Effect<Option.Option<Redacted.Redacted<string>>, SecretError>
}>("@spectral/engine/secrets/WorkspaceCredentials", { defaultValue: () => ({ apiKeyFor: () => Effect.succeedNone }) })

const infoOf = (r: WorkspaceSecretRecord): SecretInfo => ({
  name: r.name,
  kekFingerprint: r.kekFingerprint,
  createdAt: r.createdAt,
  ...(r.rotatedAt === undefined ? {} : { rotatedAt: r.rotatedAt })
})

const make = Effect.gen(function*() {
  const repo = yield* WorkspaceSecretRepo
  const keys = yield* KeyProvider
  const opened = new Map<string, Option.Option<Redacted.Redacted<string>>>()
  const now = Effect.map(Clock.currentTimeMillis, (ms) => new Date(ms).toISOString())

  const checkName = (workspaceId: string, name: string) =>
    workspaceId === ""
      ? Effect.fail(secretError("InvalidSecret", "the empty workspace id names no workspace"))
      : namePattern.test(name)
      ? Effect.void
      : Effect.fail(secretError("InvalidSecret", `secret name ${JSON.stringify(name)} is not 1–64 of a-z, 0-9, '.', '_', '-' starting with a letter or digit`))

  const openRecord = (record: WorkspaceSecretRecord) =>
    Effect.gen(function*() {
      const kek = yield* keys.byFingerprint(record.kekFingerprint)
      const value = open(kek, record.workspaceId, record.name, record)
      if (value === undefined) {
        return yield* secretError(
          "NotSealedHere",
          `secret ${record.name} of workspace ${record.workspaceId} does not open under key-encryption key ${record.kekFingerprint}: it was changed or sealed for another workspace or name`
        )
      }
      return value
    })

  const reveal = Effect.fn("WorkspaceSecrets.reveal")(function*(workspaceId: string, name: string) {
    yield* checkName(workspaceId, name)
    const record = yield* repo.get(workspaceId, name).pipe(Effect.mapError(fromStorage))
    return yield* openRecord(record)
  })

  return WorkspaceSecrets.of({
    set: Effect.fn("WorkspaceSecrets.set")(function*(workspaceId, name, value) {
      yield* checkName(workspaceId, name)
      if (Redacted.value(value).trim().length === 0) return yield* secretError("InvalidSecret", `secret ${name}: the value is empty`)
      const kek = yield* keys.current
      const createdAt = yield* now
      const record: WorkspaceSecretRecord = { workspaceId, name, createdAt, ...seal(kek, workspaceId, name, value) }
      yield* repo.put(record).pipe(Effect.mapError(fromStorage))
      opened.delete(workspaceId)
      return infoOf(record)
    }),
    reveal,
    list: (workspaceId) =>
      checkName(workspaceId, LlmApiKeySecret).pipe(
        Effect.andThen(repo.list(workspaceId).pipe(Effect.mapError(fromStorage))),
        Effect.map((records) => records.map(infoOf))
      ),
    remove: Effect.fn("WorkspaceSecrets.remove")(function*(workspaceId, name) {
      yield* checkName(workspaceId, name)
      yield* repo.remove(workspaceId, name).pipe(Effect.mapError(fromStorage))
      opened.delete(workspaceId)
    }),
    rotate: Effect.fn("WorkspaceSecrets.rotate")(function*(workspaceId) {
      yield* checkName(workspaceId, LlmApiKeySecret)
      const kek = yield* keys.current
      const records = yield* repo.list(workspaceId).pipe(Effect.mapError(fromStorage))
      const rotatedAt = yield* now
      // Open all first: a secret that does not open stops the rotation before anything is rewritten.
      const values = yield* Effect.forEach(records, openRecord)
      const rotated: Array<string> = []
      for (const [i, record] of records.entries()) {
        if (record.kekFingerprint === kek.fingerprint) continue
        yield* repo.put({ ...record, ...seal(kek, workspaceId, record.name, values[i]), rotatedAt }).pipe(Effect.mapError(fromStorage))
        rotated.push(record.name)
      }
      opened.delete(workspaceId)
      return { workspaceId, rotated, kekFingerprint: kek.fingerprint }
    }),
    apiKeyFor: (workspaceId) =>
      Effect.suspend(() => {
        const cached = opened.get(workspaceId)
        if (cached !== undefined) return Effect.succeed(cached)
        return reveal(workspaceId, LlmApiKeySecret).pipe(
          Effect.map(Option.some),
          Effect.catchIf((e: SecretError) => e.reason === "NotFound", () => Effect.succeedNone),
          Effect.tap((value) => Effect.sync(() => opened.set(workspaceId, value)))
        )
      })
  })
})


