/**
 * Where the keys that sign and verify cards come from: configuration only, never generated on the
 * fly. The signing key is, first found: the `--key FILE` flag, `SPECTRAL_SIGNING_KEY_FILE` (a PEM
 * file), `SPECTRAL_SIGNING_KEY` (the PEM itself, kept redacted). The verifying key is the
 * `--public-key FILE` flag or `SPECTRAL_VERIFY_KEY_FILE`. `writeCardKeyPair` is the one explicit
 * way to make a pair (`spectral card keygen`). Owns finding and reading keys; the cryptography is
 * the engine's `CardSignature`.
 */
import { Config, Effect, FileSystem, Option, Path, PlatformError } from "effect"
import { CardSignatureError, generateCardKeyPair, signingKeyFromPem, verifyingKeyFromPem } from "@spectral/engine"
import { CliInputError } from "../CliIo.ts"

/** The signing key's settings: a PEM file or the PEM itself. */
export const SigningKeySettings = Config.all({
  file: Config.option(Config.String("SPECTRAL_SIGNING_KEY_FILE")),
  pem: Config.option(Config.Redacted("SPECTRAL_SIGNING_KEY"))
})

/** The verifying key's setting: a PEM file. */
export const VerifyingKeySettings = Config.option(Config.String("SPECTRAL_VERIFY_KEY_FILE"))

const missing = (message: string, field: string) => new CardSignatureError({ reason: "MissingKey", field, message })

const problem = (error: PlatformError.PlatformError) =>
  error.reason._tag === "NotFound" ? "no such file" : error.reason._tag === "PermissionDenied" ? "permission denied" : (error.reason.description ?? error.reason._tag)

const readKeyFile = Effect.fnUntraced(function*(file: string) {
  const fs = yield* FileSystem.FileSystem
  return yield* fs.readFileString(file).pipe(Effect.mapError((error) => missing(`cannot read the key: ${problem(error)}`, file)))
})

/** The signing key from `--key` (when given) or the configuration; none configured is `MissingKey` saying how to give one. */
export const loadSigningKey = Effect.fn("CardKeys.loadSigningKey")(function*(flag: Option.Option<string>) {
  const settings = yield* SigningKeySettings
  const file = Option.orElse(flag, () => settings.file)
  if (Option.isSome(file)) return yield* signingKeyFromPem(yield* readKeyFile(file.value), file.value)
  if (Option.isSome(settings.pem)) return yield* signingKeyFromPem(settings.pem.value, "SPECTRAL_SIGNING_KEY")
  return yield* missing(
    "no signing key: pass --key FILE, or set SPECTRAL_SIGNING_KEY_FILE (a PEM file) or SPECTRAL_SIGNING_KEY (the PEM); spectral card keygen --out DIR writes a key pair",
    "--key"
  )
})

/** The public key from `--public-key` (when given) or `SPECTRAL_VERIFY_KEY_FILE`; neither is `MissingKey`. */
export const loadVerifyingKey = Effect.fn("CardKeys.loadVerifyingKey")(function*(flag: Option.Option<string>) {
  const configured = Option.isSome(flag) ? flag : yield* VerifyingKeySettings
  if (Option.isNone(configured)) {
    return yield* missing("no public key: pass --public-key FILE (the signer's .pub.pem) or set SPECTRAL_VERIFY_KEY_FILE", "--public-key")
  }
  return yield* verifyingKeyFromPem(yield* readKeyFile(configured.value), configured.value)
})

/** The files `writeCardKeyPair` writes into its folder. */
export const KEY_FILE = "card-signing-key.pem"
export const PUBLIC_KEY_FILE = "card-signing-key.pub.pem"

/**
 * Write a new Ed25519 pair into `directory` (created 0700 when missing): the private key 0600, the
 * public key beside it. An existing key file is never overwritten (a CliInputError naming it).
 */
export const writeCardKeyPair = Effect.fn("CardKeys.writeCardKeyPair")(function*(directory: string) {
  const fs = yield* FileSystem.FileSystem
  const path = yield* Path.Path
  const privateFile = path.join(directory, KEY_FILE)
  const publicFile = path.join(directory, PUBLIC_KEY_FILE)
  const cannot = (file: string) => (error: PlatformError.PlatformError) =>
    new CliInputError({
      file,
      message: error.reason._tag === "AlreadyExists" ? "already exists: a key is never overwritten (move it away first)" : `cannot write: ${problem(error)}`
    })
  for (const file of [privateFile, publicFile]) {
    if (yield* fs.exists(file).pipe(Effect.orElseSucceed(() => false))) {
      return yield* new CliInputError({ file, message: "already exists: a key is never overwritten (move it away first)" })
    }
  }
  yield* fs.makeDirectory(directory, { recursive: true, mode: 0o700 }).pipe(Effect.mapError(cannot(directory)))
  const pair = yield* generateCardKeyPair
  yield* fs.writeFileString(privateFile, pair.privateKeyPem, { flag: "wx", mode: 0o600 }).pipe(Effect.mapError(cannot(privateFile)))
  yield* fs.writeFileString(publicFile, pair.publicKeyPem, { flag: "wx", mode: 0o644 }).pipe(Effect.mapError(cannot(publicFile)))
  return { privateKey: privateFile, publicKey: publicFile, fingerprint: pair.fingerprint }
})
