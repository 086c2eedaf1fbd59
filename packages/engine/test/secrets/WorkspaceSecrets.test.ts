/**
 * Workspace secrets on the memory store: a value round-trips and is stored only as ciphertext; a
 * record copied to another workspace, renamed or with one byte changed does not open; a missing, a
 * malformed or an unconfigured key-encryption key is an error naming it; rotation re-seals under the
 * current key and the old key is then not needed.
 */
import { assert, describe, it } from "@effect/vitest"
import { KeyProvider, MemoryStorage, type SecretError, WorkspaceSecretRepo, WorkspaceSecrets } from "@spectral/engine"
import { ConfigProvider, Effect, Layer, Option, Redacted } from "effect"
import { randomBytes } from "node:crypto"

const k1 = new Uint8Array(randomBytes(32))
const k2 = new Uint8Array(randomBytes(32))
const VALUE = "sk-test-0123456789abcdefghijklmnop"

const withKeys = (keys: ReadonlyArray<Uint8Array>, storage = MemoryStorage.layer) =>
  Layer.provideMerge(WorkspaceSecrets.layerNoDeps.pipe(Layer.provide(KeyProvider.layerKeys(keys))), storage)

const reasonOf = <A>(effect: Effect.Effect<A, SecretError>) => Effect.map(Effect.flip(effect), (e) => ({ reason: e.reason, message: e.message }))

describe("WorkspaceSecrets", () => {
  it.effect("round-trips a value; the store holds ciphertext only; list shows no value", () =>
    Effect.gen(function*() {
      const secrets = yield* WorkspaceSecrets
      const info = yield* secrets.set("a", "llm-api-key", Redacted.make(VALUE))
      assert.strictEqual(Redacted.value(yield* secrets.reveal("a", "llm-api-key")), VALUE)
      assert.strictEqual(String(yield* secrets.reveal("a", "llm-api-key")), "<redacted>")
      const stored = yield* (yield* WorkspaceSecretRepo).get("a", "llm-api-key")
      assert.notInclude(JSON.stringify(stored), VALUE)
      assert.notInclude(JSON.stringify(stored), Buffer.from(VALUE).toString("base64"))
      assert.deepStrictEqual((yield* secrets.list("a")).map((s) => s.name), ["llm-api-key"])
      assert.notInclude(JSON.stringify(yield* secrets.list("a")), VALUE)
      assert.strictEqual(info.kekFingerprint.length, 16)
      assert.isTrue(Option.isSome(yield* secrets.apiKeyFor("a")))
      assert.isTrue(Option.isNone(yield* secrets.apiKeyFor("b")), "another workspace has none")
    }).pipe(Effect.provide(withKeys([k1]))))

  it.effect("a record copied to another workspace, renamed or changed by one byte does not open", () =>
    Effect.gen(function*() {
      const secrets = yield* WorkspaceSecrets
      const repo = yield* WorkspaceSecretRepo
      yield* secrets.set("a", "llm-api-key", Redacted.make(VALUE))
      const stored = yield* repo.get("a", "llm-api-key")
      yield* repo.put({ ...stored, workspaceId: "b" })
      const copied = yield* reasonOf(secrets.reveal("b", "llm-api-key"))
      assert.strictEqual(copied.reason, "NotSealedHere")
      assert.include(copied.message, "workspace b")
      yield* repo.put({ ...stored, name: "other-key" })
      assert.strictEqual((yield* reasonOf(secrets.reveal("a", "other-key"))).reason, "NotSealedHere")
      const bytes = Buffer.from(stored.ciphertext, "base64")
      bytes[0] ^= 1
      yield* repo.put({ ...stored, ciphertext: bytes.toString("base64") })
      assert.strictEqual((yield* reasonOf(secrets.reveal("a", "llm-api-key"))).reason, "NotSealedHere")
      assert.strictEqual((yield* reasonOf(secrets.apiKeyFor("a"))).reason, "NotSealedHere", "a provider gets the error, not the configured key")
    }).pipe(Effect.provide(withKeys([k1]))))

  it.effect("bad names and empty values are refused naming them", () =>
    Effect.gen(function*() {
      const secrets = yield* WorkspaceSecrets
      const bad = yield* reasonOf(secrets.set("a", "Has Spaces", Redacted.make(VALUE)))
      assert.strictEqual(bad.reason, "InvalidSecret")
      assert.include(bad.message, "Has Spaces")
      assert.strictEqual((yield* reasonOf(secrets.set("a", "llm-api-key", Redacted.make("  ")))).reason, "InvalidSecret")
      assert.strictEqual((yield* reasonOf(secrets.set("", "llm-api-key", Redacted.make(VALUE)))).reason, "InvalidSecret")
      assert.strictEqual((yield* reasonOf(secrets.reveal("a", "missing"))).reason, "NotFound")
    }).pipe(Effect.provide(withKeys([k1]))))

  it.effect("rotation re-seals under the current key; without the old key the old seal does not open, after rotation it needs none", () =>
    Effect.gen(function*() {
      const storage = yield* Layer.build(MemoryStorage.layer)
      const run = <A, E>(keys: ReadonlyArray<Uint8Array>, effect: Effect.Effect<A, E, WorkspaceSecrets>) =>
        effect.pipe(Effect.provide(WorkspaceSecrets.layerNoDeps.pipe(Layer.provide(KeyProvider.layerKeys(keys)))), Effect.provide(storage))
      const sealed = yield* run([k1], Effect.flatMap(WorkspaceSecrets, (s) => s.set("a", "llm-api-key", Redacted.make(VALUE))))
      const unknown = yield* run([k2], Effect.flatMap(WorkspaceSecrets, (s) => reasonOf(s.reveal("a", "llm-api-key"))))
      assert.strictEqual(unknown.reason, "UnknownKeyEncryptionKey")
      assert.include(unknown.message, sealed.kekFingerprint)
      const report = yield* run([k2, k1], Effect.flatMap(WorkspaceSecrets, (s) => s.rotate("a")))
      assert.deepStrictEqual(report.rotated, ["llm-api-key"])
      assert.notStrictEqual(report.kekFingerprint, sealed.kekFingerprint)
      const value = yield* run([k2], Effect.flatMap(WorkspaceSecrets, (s) => s.reveal("a", "llm-api-key")))
      assert.strictEqual(Redacted.value(value), VALUE)
      const again = yield* run([k2], Effect.flatMap(WorkspaceSecrets, (s) => s.rotate("a")))
      assert.deepStrictEqual(again.rotated, [], "nothing left to rotate")
    }).pipe(Effect.scoped))

  it.effect("a missing or malformed key-encryption key from configuration is an error naming the variable", () =>
    Effect.gen(function*() {
      const fromEnv = (env: Record<string, string>) =>
        Effect.flatMap(WorkspaceSecrets, (s) => reasonOf(s.set("a", "llm-api-key", Redacted.make(VALUE)))).pipe(
          Effect.provide(WorkspaceSecrets.layerNoDeps.pipe(Layer.provide(KeyProvider.layerConfig), Layer.provide(MemoryStorage.layer))),
          Effect.provide(ConfigProvider.layer(ConfigProvider.fromUnknown(env)))
        )
      const missing = yield* fromEnv({})
      assert.strictEqual(missing.reason, "MissingKeyEncryptionKey")
      assert.include(missing.message, "SPECTRAL_SECRETS_KEK")
      const short = yield* Effect.exit(fromEnv({ SPECTRAL_SECRETS_KEK: Buffer.from(randomBytes(16)).toString("base64") }))
      assert.isTrue(short._tag === "Failure")
      assert.include(String(short._tag === "Failure" ? short.cause : ""), "16 bytes")
    }))
})
