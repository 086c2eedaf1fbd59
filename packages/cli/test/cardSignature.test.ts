/**
 * `spectral card keygen | sign | verify` as a user and an auditor run them: a card a scan wrote and
 * a WorldModelCard are signed with a key from a file or the environment, verify offline with the
 * public key alone, and every change — one byte of a field, the authority ref, another key, an
 * edited signature — fails with exit 2 and one `{"error"}` line naming it.
 */
import { NodeServices } from "@effect/platform-node"
import { assert, describe, it } from "@effect/vitest"
import { Cause, ConfigProvider, Effect, Exit, FileSystem } from "effect"
import { Command } from "effect/cli"
import { createHash, createPublicKey } from "node:crypto"
import { readFileSync } from "node:fs"
import { join } from "node:path"
import { CliFailed } from "../src/CliFailure.ts"
import { KEY_FILE, PUBLIC_KEY_FILE } from "../src/cards/CardKeys.ts"
import { card } from "../src/commands/card.ts"
import { worldCommand } from "../src/commands/world.ts"
import { startNode } from "./ScanProcesses.ts"

const bin = join(import.meta.dirname, "..", "src", "bin.ts")
/** What `spectral scan --output` wrote for the example team (`npm start`, seed 1). */
const scanCardFile = join(import.meta.dirname, "fixtures", "agent-performance-card.json")

/** The bin as a separate process, with no signing configuration inherited from this one. */
const spectral = (args: ReadonlyArray<string>, env: Record<string, string | undefined> = {}) =>
  Effect.scoped(Effect.flatMap(
    startNode(bin, args, { SPECTRAL_SIGNING_KEY: undefined, SPECTRAL_SIGNING_KEY_FILE: undefined, SPECTRAL_VERIFY_KEY_FILE: undefined, ...env }),
    (child) => child.exit
  ))

/** `spectral card …` in this process with exactly `env` as its environment; a failure is the CliFailed it ended with. */
const cardCommand = (args: ReadonlyArray<string>, env: Record<string, string> = {}) =>
  Command.runWith(card, { version: "test" })(args).pipe(
    Effect.provide(ConfigProvider.layer(ConfigProvider.fromEnv({ env }))),
    Effect.exit,
    Effect.map((exit) => {
      if (Exit.isSuccess(exit)) return undefined
      const error = Cause.squash(exit.cause)
      assert.instanceOf(error, CliFailed)
      return error as CliFailed
    })
  )

/** One `{"error"}` line on stdout, exit 2, the message naming each of `mentions`. */
const badInput = (run: { readonly code: number | null; readonly stdout: string }, ...mentions: ReadonlyArray<string>) => {
  assert.strictEqual(run.code, 2, run.stdout)
  const lines = run.stdout.trimEnd().split("\n")
  assert.strictEqual(lines.length, 1)
  const { error } = JSON.parse(lines[0]!) as { error: string }
  for (const mention of mentions) assert.include(error, mention)
  return error
}

const setup = Effect.gen(function*() {
  const fs = yield* FileSystem.FileSystem
  const dir = yield* fs.makeTempDirectoryScoped({ prefix: "spectral-card-sign-" })
  const keys = join(dir, "keys")
  assert.isUndefined(yield* cardCommand(["keygen", "--out", keys]))
  const scanCard = join(dir, "agent-performance-card.json")
  yield* fs.writeFileString(scanCard, readFileSync(scanCardFile, "utf8"))
  const publicKey = join(keys, PUBLIC_KEY_FILE)
  const spki = createPublicKey(yield* fs.readFileString(publicKey)).export({ type: "spki", format: "der" })
  return { fs, dir, keys, scanCard, privateKey: join(keys, KEY_FILE), publicKey, fingerprint: createHash("sha256").update(spki).digest("hex") }
})

describe("spectral card sign / verify", () => {
  it.effect("keygen writes a pair (private 0600), prints its fingerprint, and never overwrites it", () =>
    Effect.gen(function*() {
      const fs = yield* FileSystem.FileSystem
      const keys = join(yield* fs.makeTempDirectoryScoped({ prefix: "spectral-card-keygen-" }), "keys")
      const keygen = yield* spectral(["card", "keygen", "--out", keys])
      assert.strictEqual(keygen.code, 0, keygen.stdout + keygen.stderr)
      const made = JSON.parse(keygen.stdout) as { privateKey: string; publicKey: string; fingerprint: string }
      const [privateKey, publicKey] = [join(keys, KEY_FILE), join(keys, PUBLIC_KEY_FILE)]
      assert.deepStrictEqual([made.privateKey, made.publicKey], [privateKey, publicKey])
      const spki = createPublicKey(yield* fs.readFileString(publicKey)).export({ type: "spki", format: "der" })
      assert.strictEqual(made.fingerprint, createHash("sha256").update(spki).digest("hex"))
      assert.strictEqual(Number((yield* fs.stat(privateKey)).mode) & 0o777, 0o600)
      const before = yield* fs.readFileString(privateKey)
      const again = yield* cardCommand(["keygen", "--out", keys])
      assert.strictEqual(again?.code, 2)
      assert.include(again?.message, "already exists")
      assert.strictEqual(yield* fs.readFileString(privateKey), before)
    }).pipe(Effect.provide(NodeServices.layer)))

  it.effect("a scan's card signed with --key verifies offline with the public key; a one-byte change fails naming the field", () =>
    Effect.gen(function*() {
      const { fs, dir, fingerprint, scanCard, privateKey, publicKey } = yield* setup
      const signature = join(dir, "card.sig.json")
      const signed = yield* spectral(["card", "sign", "--input", scanCard, "--key", privateKey, "--out", signature])
      assert.strictEqual(signed.code, 0, signed.stdout + signed.stderr)
      const document = JSON.parse(yield* fs.readFileString(signature))
      assert.strictEqual(document.kind, "AgentPerformanceCard")
      assert.strictEqual(document.publicKeyFingerprint, fingerprint)
      assert.deepStrictEqual(document.authority, JSON.parse(readFileSync(scanCardFile, "utf8")).authority)

      const verified = yield* spectral(["card", "verify", "--input", scanCard, "--signature", signature, "--public-key", publicKey])
      assert.strictEqual(verified.code, 0, verified.stdout + verified.stderr)
      const result = JSON.parse(verified.stdout)
      assert.isTrue(result.verified)
      assert.strictEqual(result.authority.worldModelId, "us-federal-individual-tax")

      // One byte: the verdict's outcome "go" becomes "no" in the file.
      const text = yield* fs.readFileString(scanCard)
      const tampered = join(dir, "tampered.json")
      yield* fs.writeFileString(tampered, text.replace(`"outcome": "go"`, `"outcome": "no"`))
      assert.strictEqual((yield* fs.readFileString(tampered)).length, text.length)
      const rejected = yield* spectral(["card", "verify", "--input", tampered, "--signature", signature, "--public-key", publicKey])
      badInput(rejected, "tampered.json", "does not verify", `field "verdict" changed`)
    }).pipe(Effect.provide(NodeServices.layer)))

  it.effect("the authority ref, another key, an edited signature, a missing key: each named, exit 2", () =>
    Effect.gen(function*() {
      const { fs, dir, scanCard, privateKey, publicKey } = yield* setup
      const signature = join(dir, "card.sig.json")
      assert.isUndefined(yield* cardCommand(["sign", "--input", scanCard, "--out", signature], { SPECTRAL_SIGNING_KEY_FILE: privateKey }))
      const card = JSON.parse(yield* fs.readFileString(scanCard))
      const verify = (cardFile: string, env: Record<string, string> = {}, signatureFile = signature, key: ReadonlyArray<string> = ["--public-key", publicKey]) =>
        cardCommand(["verify", "--input", cardFile, "--signature", signatureFile, ...key], env)
      assert.isUndefined(yield* verify(scanCard))

      const reattributed = join(dir, "reattributed.json")
      yield* fs.writeFileString(reattributed, JSON.stringify({ ...card, authority: { ...card.authority, ruleSetHash: card.authority.ruleSetHash.replace(/.$/, "0") } }))
      const ref = yield* verify(reattributed)
      assert.strictEqual(ref?.code, 2)
      assert.include(ref?.message, "authority.ruleSetHash")

      const otherKeys = join(dir, "other")
      yield* cardCommand(["keygen", "--out", otherKeys])
      const wrong = yield* verify(scanCard, {}, signature, ["--public-key", join(otherKeys, PUBLIC_KEY_FILE)])
      assert.strictEqual(wrong?.code, 2)
      assert.include(wrong?.message, "signed by the key with fingerprint")

      const document = JSON.parse(yield* fs.readFileString(signature))
      const edited = join(dir, "edited.sig.json")
      yield* fs.writeFileString(edited, JSON.stringify({ ...document, signedAt: "2020-01-01T00:00:00.000Z" }))
      const mismatch = yield* verify(scanCard, {}, edited)
      assert.strictEqual(mismatch?.code, 2)
      assert.include(mismatch?.message, "edited.sig.json: does not verify")

      const malformed = join(dir, "malformed.sig.json")
      yield* fs.writeFileString(malformed, JSON.stringify({ ...document, signature: "not base64" }))
      assert.include((yield* verify(scanCard, {}, malformed))?.message, "malformed.sig.json")

      assert.include((yield* verify(scanCard, {}, signature, []))?.message, "SPECTRAL_VERIFY_KEY_FILE")
      assert.isUndefined(yield* verify(scanCard, { SPECTRAL_VERIFY_KEY_FILE: publicKey }, signature, []))
      assert.include((yield* verify(scanCard, {}, signature, ["--public-key", privateKey]))?.message, "is a private key")

      const missing = yield* cardCommand(["sign", "--input", scanCard])
      assert.strictEqual(missing?.code, 2)
      assert.include(missing?.message, "SPECTRAL_SIGNING_KEY_FILE")
      assert.include(missing?.message, "spectral card keygen")
    }).pipe(Effect.provide(NodeServices.layer)))

  it.effect("a WorldModelCard signed with the PEM in SPECTRAL_SIGNING_KEY verifies; a card that is not a card is refused", () =>
    Effect.gen(function*() {
      const { fs, dir, scanCard, privateKey, publicKey } = yield* setup
      const worldCard = join(dir, "world.json")
      yield* Command.runWith(worldCommand, { version: "test" })(["card", "--world", "us-federal-individual-tax@0.2.0", "--format", "json", "--output", worldCard])
      const signature = join(dir, "world.sig.json")
      const pem = yield* fs.readFileString(privateKey)
      assert.isUndefined(yield* cardCommand(["sign", "--input", worldCard, "--output", signature], { SPECTRAL_SIGNING_KEY: pem }))
      const document = JSON.parse(yield* fs.readFileString(signature))
      assert.strictEqual(document.kind, "WorldModelCard")
      assert.strictEqual(document.authority.worldModelVersion, "0.2.0")
      assert.notInclude(JSON.stringify(document), pem.split("\n")[1]!)
      assert.isUndefined(yield* cardCommand(["verify", "--input", worldCard, "--signature", signature, "--public-key", publicKey]))

      const notCard = yield* cardCommand(["sign", "--input", signature, "--key", privateKey])
      assert.strictEqual(notCard?.code, 2)
      assert.include(notCard?.message, "is not a card")
      const card = JSON.parse(yield* fs.readFileString(scanCard))
      const extra = join(dir, "extra.json")
      yield* fs.writeFileString(extra, JSON.stringify({ ...card, approvedBy: "me" }))
      assert.include((yield* cardCommand(["sign", "--input", extra, "--key", privateKey]))?.message, "approvedBy")
    }).pipe(Effect.provide(NodeServices.layer)))
})
