/**
 * Where the key-encryption key (KEK) comes from: a small service so a KMS can replace it. The default
 * reads configuration: `SPECTRAL_SECRETS_KEK` (base64 of 32 random bytes) or `SPECTRAL_SECRETS_KEK_FILE`
 * (a file holding that base64), plus `SPECTRAL_SECRETS_KEK_PREVIOUS` (comma-separated base64 keys still
 * accepted for opening, so `rotate` can re-seal what they sealed). A key is never generated silently:
 * with none configured, every use fails with `MissingKeyEncryptionKey`. Each key is known by its
 * fingerprint (the first 16 hex digits of SHA-256 over the key), stored beside each ciphertext.
 */
import * as Crypto from "node:crypto"
import * as Fs from "node:fs"
import { Config, Context, Effect, Layer, Option, Redacted } from "effect"
import { type SecretError, secretError } from "./SecretError.ts"

export interface KeyEncryptionKey {
  readonly fingerprint: string
  readonly key: Redacted.Redacted<Uint8Array>
}

export class KeyProvider extends Context.Service<KeyProvider, {
  /** The key new secrets are sealed with. */
  readonly current: Effect.Effect<KeyEncryptionKey, SecretError>
  /** The key with this fingerprint (the current one or a previous one). */
  readonly byFingerprint: (fingerprint: string) => Effect.Effect<KeyEncryptionKey, SecretError>
}>()("@spectral/engine/secrets/KeyProvider") {
  /** From raw keys: the first is current, the rest are accepted for opening only. */
  static readonly layerKeys = (keys: ReadonlyArray<Uint8Array>) => Layer.effect(KeyProvider, Effect.map(Effect.all(keys.map((key, i) => kekOf(key, `key ${i + 1}`))), make))

  /** From `SPECTRAL_SECRETS_KEK` / `SPECTRAL_SECRETS_KEK_FILE` / `SPECTRAL_SECRETS_KEK_PREVIOUS`. */
  static readonly layerConfig = Layer.effect(
    KeyProvider,
    Effect.gen(function*() {
      const inline = yield* Config.option(Config.Redacted("SPECTRAL_SECRETS_KEK"))
      const file = yield* Config.option(Config.String("SPECTRAL_SECRETS_KEK_FILE"))
      const previous = yield* Config.option(Config.Redacted("SPECTRAL_SECRETS_KEK_PREVIOUS"))
      const currentText = Option.isSome(inline)
        ? Option.some({ text: Redacted.value(inline.value), source: "SPECTRAL_SECRETS_KEK" })
        : Option.isSome(file)
        ? Option.some({ text: yield* readKeyFile(file.value), source: `SPECTRAL_SECRETS_KEK_FILE (${file.value})` })
        : Option.none()
      if (Option.isNone(currentText)) return missing
      const current = yield* decodeKek(currentText.value.text, currentText.value.source)
      const older = Option.isNone(previous)
        ? []
        : yield* Effect.all(
          Redacted.value(previous.value).split(",").map((s) => s.trim()).filter((s) => s.length > 0).map((text, i) =>
            decodeKek(text, `SPECTRAL_SECRETS_KEK_PREVIOUS entry ${i + 1}`)
          )
        )
      return make([current, ...older])
    }).pipe(Effect.orDie)
  )
}

const fingerprintOf = (key: Uint8Array) => Crypto.createHash("sha256").update(key).digest("hex").slice(0, 16)

const kekOf = (key: Uint8Array, source: string): Effect.Effect<KeyEncryptionKey, SecretError> =>
  key.length === 32
    ? Effect.succeed({ fingerprint: fingerprintOf(key), key: Redacted.make(key) })
    : Effect.fail(secretError("InvalidKeyEncryptionKey", `${source} is ${key.length} bytes; a key-encryption key is 32 bytes (base64 of 32 random bytes: openssl rand -base64 32)`))

const decodeKek = (text: string, source: string) =>
  /^[A-Za-z0-9+/]+={0,2}$/.test(text.trim())
    ? kekOf(new Uint8Array(Buffer.from(text.trim(), "base64")), source)
    : Effect.fail(secretError("InvalidKeyEncryptionKey", `${source} is not base64 (expected base64 of 32 random bytes: openssl rand -base64 32)`))

const readKeyFile = (path: string) =>
  Effect.try({
    try: () => Fs.readFileSync(path, "utf8"),
    catch: (e) => secretError("MissingKeyEncryptionKey", `SPECTRAL_SECRETS_KEK_FILE ${path} cannot be read: ${(e as Error).message}`)
  })

const missing: KeyProvider["Service"] = {
  current: Effect.fail(secretError("MissingKeyEncryptionKey", "no key-encryption key is configured: set SPECTRAL_SECRETS_KEK or SPECTRAL_SECRETS_KEK_FILE (base64 of 32 random bytes)")),
  byFingerprint: (fingerprint) =>
    Effect.fail(secretError("MissingKeyEncryptionKey", `no key-encryption key is configured to open secrets sealed under ${fingerprint}: set SPECTRAL_SECRETS_KEK or SPECTRAL_SECRETS_KEK_FILE`))
}

const make = (keys: ReadonlyArray<KeyEncryptionKey>): KeyProvider["Service"] => {
  if (keys.length === 0) return missing
  const byPrint = new Map(keys.map((k) => [k.fingerprint, k]))
  return {
    current: Effect.succeed(keys[0]),
    byFingerprint: (fingerprint) => {
      const key = byPrint.get(fingerprint)
      return key === undefined
        ? Effect.fail(secretError("UnknownKeyEncryptionKey", `sealed under key-encryption key ${fingerprint}, which is not configured (configured: ${keys.map((k) => k.fingerprint).join(", ")}); add it to SPECTRAL_SECRETS_KEK_PREVIOUS to open or rotate it`))
        : Effect.succeed(key)
    }
  }
}
