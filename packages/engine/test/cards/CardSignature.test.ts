import { assert, describe, it } from "@effect/vitest"
import { Effect, Result } from "effect"
import * as Crypto from "node:crypto"
import { ALPHA_FOOTER, type AgentPerformanceCard, absent, present } from "../../src/contracts/index.ts"
import {
  canonicalCardJson,
  type CardSignatureDocument,
  type CardSignatureError,
  generateCardKeyPair,
  publicKeyFingerprint,
  signCard,
  signingKeyFromPem,
  verifyCard,
  verifyingKeyFromPem
} from "../../src/cards/CardSignature.ts"

const card: AgentPerformanceCard = {
  workspaceId: "ws",
  workspaceName: "Ledger tax prep",
  scanId: "ws:scan:2",
  changeSetId: "ws:cs:2",
  changeSetVersion: 2,
  changeSetStatus: "proposed",
  generatedAt: "2026-03-01T00:00:00.000Z",
  authority: { worldModelId: "us-federal-individual-tax", worldModelVersion: "0.1.0", ruleSetHash: "sha256:abcdef0123456789abcdef" },
  verdict: { outcome: "go", checksPassed: 20, checksTotal: 20, delta: { estimate: 0.124, low: 0.039, high: 0.234 } },
  scores: { worldModel: present(0.71), rubric: present(0.76), blended: present(0.73), convergenceDelta: absent("no conformance samples") },
  agents: [
    { agentId: "advisor", name: "Filing-status advisor", version: 3, changed: true, baselineScore: present(0.6), candidateScore: present(0.68), change: { estimate: 0.08, low: 0.03, high: 0.13 }, passRate: present(0.7), consistency: absent("one run per stimulus") }
  ],
  clusters: [{ label: "Answered single", members: 44, frequencyPct: 30, failureRateBefore: 1, failureRateAfter: 0.4 }],
  gates: [{ gate: "bootstrap_ci", check: "paired_interval", status: "pass", reason: "95% interval [3.9 pts, 23.4 pts] on 40 stimuli" }],
  summary: "Verdict: 20 / 20 checks passing (go).",
  footer: ALPHA_FOOTER
}

const keys = Effect.gen(function*() {
  const pair = yield* generateCardKeyPair
  return {
    signing: yield* signingKeyFromPem(pair.privateKeyPem, "key.pem"),
    verifying: yield* verifyingKeyFromPem(pair.publicKeyPem, "key.pub.pem"),
    pair
  }
})

const signed = Effect.gen(function*() {
  const k = yield* keys
  const signature = yield* signCard({ card, kind: "AgentPerformanceCard", key: k.signing })
  return { ...k, signature }
})

const failure = <A>(effect: Effect.Effect<A, CardSignatureError>) => Effect.flip(effect)

describe("canonical JSON", () => {
  it.effect("is RFC 8785: the RFC's own example, sorted keys, no whitespace", () =>
    Effect.gen(function*() {
      // RFC 8785 section 3.2.2 / appendix: input and its canonical form.
      const input = JSON.parse(
        `{"numbers": [333333333.33333329, 1E30, 4.50, 2e-3, 0.000000000000000000000000001], "string": "\\u20ac$\\u000F\\u000aA'\\u0042\\u0022\\u005c\\\\\\"\\/", "literals": [null, true, false]}`
      )
      assert.strictEqual(
        yield* canonicalCardJson(input),
        `{"literals":[null,true,false],"numbers":[333333333.3333333,1e+30,4.5,0.002,1e-27],"string":"€$\\u000f\\nA'B\\"\\\\\\\\\\"/"}`
      )
      assert.strictEqual(yield* canonicalCardJson({ b: [1, { d: -0, c: "x" }], a: null }), `{"a":null,"b":[1,{"c":"x","d":0}]}`)
    }))

  it.effect("a value JSON cannot hold is an error naming the card", () =>
    Effect.gen(function*() {
      const error = yield* failure(canonicalCardJson({ n: 1n }))
      assert.strictEqual(error.reason, "MalformedCard")
    }))
})

describe("signing a card", () => {
  it.effect("the document records the authority ref, the key's SPKI fingerprint and a digest per top-level field; it verifies", () =>
    Effect.gen(function*() {
      const { signature, verifying, pair } = yield* signed
      assert.deepStrictEqual(signature.authority, card.authority)
      const spki = Crypto.createPublicKey(pair.publicKeyPem).export({ type: "spki", format: "der" })
      assert.strictEqual(signature.publicKeyFingerprint, Crypto.createHash("sha256").update(spki).digest("hex"))
      assert.strictEqual(signature.publicKeyFingerprint, pair.fingerprint)
      assert.deepStrictEqual(Object.keys(signature.fieldDigests), Object.keys(card).sort())
      const verified = yield* verifyCard({ card, signature, key: verifying })
      assert.strictEqual(verified.kind, "AgentPerformanceCard")
      assert.deepStrictEqual(verified.authority, card.authority)
    }))

  it.effect("an auditor's own check agrees: Ed25519 over canonical JSON of the statement plus the card", () =>
    Effect.gen(function*() {
      const { signature, pair } = yield* signed
      const { signature: sig, ...statement } = signature
      const message = yield* canonicalCardJson({ ...statement, card })
      assert.isTrue(Crypto.verify(null, Buffer.from(message), Crypto.createPublicKey(pair.publicKeyPem), Buffer.from(sig, "base64")))
    }))

  it.effect("key order and whitespace of the card file are not part of the card", () =>
    Effect.gen(function*() {
      const { signature, verifying } = yield* signed
      const reordered = JSON.parse(JSON.stringify(Object.fromEntries(Object.entries(card).reverse()), null, 4))
      yield* verifyCard({ card: reordered, signature, key: verifying })
    }))
})

describe("verification fails naming what changed", () => {
  it.effect("every top-level field: a one-character change names that field", () =>
    Effect.gen(function*() {
      const { signature, verifying } = yield* signed
      for (const field of Object.keys(card) as Array<keyof AgentPerformanceCard>) {
        const text = JSON.stringify(card[field])
        const at = text.search(/[0-9a-z]/)
        const changed = text.slice(0, at) + (text[at] === "1" ? "2" : /[0-9]/.test(text[at]!) ? "1" : text[at] === "a" ? "b" : "a") + text.slice(at + 1)
        const error = yield* failure(verifyCard({ card: { ...card, [field]: JSON.parse(changed) }, signature, key: verifying }))
        assert.strictEqual(error.reason, "CardTampered", field)
        assert.strictEqual(error.field, field === "authority" ? "authority.worldModelId" : field)
      }
    }))

  it.effect("a one-byte change anywhere in the canonical card fails verification (or is not JSON)", () =>
    Effect.gen(function*() {
      const { signature, verifying } = yield* signed
      const text = yield* canonicalCardJson(card)
      let rejected = 0
      for (let i = 0; i < text.length; i++) {
        const replacement = text[i] === "0" ? "1" : "0"
        const mutated = text.slice(0, i) + replacement + text.slice(i + 1)
        const decoded = Result.try(() => JSON.parse(mutated) as unknown)
        if (Result.isFailure(decoded)) {
          rejected++
          continue
        }
        const parsed = decoded.success
        if ((yield* canonicalCardJson(parsed)) === text) continue
        const error = yield* failure(verifyCard({ card: parsed, signature, key: verifying }))
        assert.include(["CardTampered", "MalformedCard"], error.reason, `byte ${i}`)
      }
      assert.isBelow(rejected, text.length)
    }))

  it.effect("each field of the authority ref is named; a field added or removed is named", () =>
    Effect.gen(function*() {
      const { signature, verifying } = yield* signed
      const authority = card.authority!
      const hash = yield* failure(verifyCard({ card: { ...card, authority: { ...authority, ruleSetHash: authority.ruleSetHash + "0" } }, signature, key: verifying }))
      assert.strictEqual(hash.field, "authority.ruleSetHash")
      const version = yield* failure(verifyCard({ card: { ...card, authority: { ...authority, worldModelVersion: "0.2.0" } }, signature, key: verifying }))
      assert.strictEqual(version.field, "authority.worldModelVersion")
      assert.include(version.message, "authority.worldModelVersion")
      const { summary: _, ...withoutSummary } = card
      const removed = yield* failure(verifyCard({ card: withoutSummary, signature, key: verifying }))
      assert.strictEqual(removed.field, "summary")
      assert.include(removed.message, "removed")
      const added = yield* failure(verifyCard({ card: { ...card, approvedBy: "someone" }, signature, key: verifying }))
      assert.strictEqual(added.field, "approvedBy")
      assert.include(added.message, "added")
      const inherited = yield* failure(verifyCard({ card: JSON.parse(JSON.stringify(card).replace("{", `{"constructor":"x",`)), signature, key: verifying }))
      assert.strictEqual(inherited.field, "constructor")
    }))

  it.effect("a signature document whose ref was edited is caught against the card", () =>
    Effect.gen(function*() {
      const { signature, verifying } = yield* signed
      const edited: CardSignatureDocument = { ...signature, authority: { ...signature.authority!, ruleSetHash: "sha256:other" } }
      const error = yield* failure(verifyCard({ card, signature: edited, key: verifying }))
      assert.strictEqual(error.field, "authority.ruleSetHash")
    }))

  it.effect("a tampered card with digests recomputed to match, or an altered signature, still fails on the signature", () =>
    Effect.gen(function*() {
      const { signature, verifying, signing } = yield* signed
      const tampered = { ...card, verdict: { ...card.verdict, outcome: "no_go" as const } }
      const forged = yield* signCard({ card: tampered, kind: "AgentPerformanceCard", key: signing })
      const mixed = { ...signature, fieldDigests: forged.fieldDigests, cardDigest: forged.cardDigest }
      const error = yield* failure(verifyCard({ card: tampered, signature: mixed, key: verifying }))
      assert.strictEqual(error.reason, "SignatureMismatch")
      const bytes = Buffer.from(signature.signature, "base64")
      bytes[0] = bytes[0]! ^ 1
      const flipped = yield* failure(verifyCard({ card, signature: { ...signature, signature: bytes.toString("base64") }, key: verifying }))
      assert.strictEqual(flipped.reason, "SignatureMismatch")
      const later = yield* failure(verifyCard({ card, signature: { ...signature, signedAt: "2030-01-01T00:00:00.000Z" }, key: verifying }))
      assert.strictEqual(later.reason, "SignatureMismatch")
    }))
})

describe("bad keys and documents", () => {
  it.effect("another key: WrongKey naming both fingerprints", () =>
    Effect.gen(function*() {
      const { signature } = yield* signed
      const other = yield* keys
      const error = yield* failure(verifyCard({ card, signature, key: other.verifying }))
      assert.strictEqual(error.reason, "WrongKey")
      assert.include(error.message, signature.publicKeyFingerprint)
      assert.include(error.message, other.verifying.fingerprint)
    }))

  it.effect("a card re-signed with another key and that key's fingerprint fails against the trusted key", () =>
    Effect.gen(function*() {
      const { verifying } = yield* signed
      const attacker = yield* keys
      const resigned = yield* signCard({ card: { ...card, verdict: { ...card.verdict, outcome: "go" as const, checksPassed: 20 } }, kind: "AgentPerformanceCard", key: attacker.signing })
      const error = yield* failure(verifyCard({ card, signature: resigned, key: verifying }))
      assert.strictEqual(error.reason, "WrongKey")
    }))

  it.effect("an RSA key, a public key for signing, a private key for verifying, garbage: InvalidKey naming the source", () =>
    Effect.gen(function*() {
      const rsa = Crypto.generateKeyPairSync("rsa", { modulusLength: 2048 })
      const rsaPem = rsa.privateKey.export({ type: "pkcs8", format: "pem" }).toString()
      const notEd = yield* failure(signingKeyFromPem(rsaPem, "rsa.pem"))
      assert.strictEqual(notEd.reason, "InvalidKey")
      assert.strictEqual(notEd.field, "rsa.pem")
      assert.include(notEd.message, "rsa")
      const pair = yield* generateCardKeyPair
      assert.strictEqual((yield* failure(signingKeyFromPem(pair.publicKeyPem, "pub.pem"))).reason, "InvalidKey")
      assert.include((yield* failure(verifyingKeyFromPem(pair.privateKeyPem, "key.pem"))).message, "public key")
      assert.strictEqual((yield* failure(verifyingKeyFromPem("-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----\n", "bad.pem"))).reason, "InvalidKey")
      assert.strictEqual(publicKeyFingerprint(Crypto.createPublicKey(pair.publicKeyPem)), pair.fingerprint)
    }))

  it.effect("a malformed signature document, a card that is not an object or has no authority", () =>
    Effect.gen(function*() {
      const { signature, verifying, signing } = yield* signed
      const { signature: _, ...unsigned } = signature
      const missing = yield* failure(verifyCard({ card, signature: unsigned, key: verifying }))
      assert.strictEqual(missing.reason, "MalformedSignature")
      assert.include(missing.message, "signature")
      assert.strictEqual((yield* failure(verifyCard({ card, signature: { ...signature, format: "other/v9" }, key: verifying }))).reason, "MalformedSignature")
      assert.strictEqual((yield* failure(verifyCard({ card: [card], signature, key: verifying }))).reason, "MalformedCard")
      const { authority: __, ...unattributed } = card
      const noAuthority = yield* failure(signCard({ card: unattributed, kind: "AgentPerformanceCard", key: signing }))
      assert.strictEqual(noAuthority.field, "authority")
    }))

  it.effect("a card no world model attributes (authority null) signs and verifies; attributing it later is named", () =>
    Effect.gen(function*() {
      const { signing, verifying } = yield* keys
      const unattributed = { ...card, authority: null }
      const signature = yield* signCard({ card: unattributed, kind: "AgentPerformanceCard", key: signing })
      assert.isNull(signature.authority)
      yield* verifyCard({ card: unattributed, signature, key: verifying })
      const error = yield* failure(verifyCard({ card, signature, key: verifying }))
      assert.strictEqual(error.field, "authority.worldModelId")
    }))
})
