/**
 * Detached Ed25519 signatures over a card (an AgentPerformanceCard, a WorldModelCard: any card
 * whose JSON has a top-level `authority`, an `EvaluationAuthorityRef` or null), verifiable offline
 * with nothing but the public key.
 *
 * Canonical JSON (`canonicalCardJson`) is RFC 8785 (JCS) for the values a JSON card holds: object keys
 * sorted by UTF-16 code units, no whitespace, strings and numbers written as ECMAScript's
 * `JSON.stringify` writes them (shortest round-trip numbers, `-0` as `0`); a value is first taken
 * through a JSON round trip, so an in-memory card and the file written from it are the same card.
 * Whitespace and key order of a card file are therefore not part of what is signed.
 *
 * The signature document holds the statement — format, algorithm, canonicalisation, card kind, the
 * authority ref copied from the card, the signing key's fingerprint (SHA-256 of its SPKI DER, hex),
 * the time of signing, a SHA-256 digest of the whole card and one per top-level field — and the
 * signature: Ed25519 over `canonicalJson({ ...statement, card })`. An auditor reproduces that
 * message with any JCS implementation and checks it with any Ed25519 verifier (`openssl pkeyutl`).
 * The per-field digests let `verifyCard` name the field that changed; the signature over the whole
 * card is checked in every case.
 *
 * Owns canonicalisation, fingerprints, signing and verifying; not where keys come from (files,
 * environment: the host's configuration) nor which card kinds exist (the caller names the kind).
 */
import { Clock, Effect, Predicate, Redacted, Result, Schema, SchemaIssue } from "effect"
import * as Crypto from "node:crypto"
import { EvaluationAuthorityRef } from "../contracts/index.ts"

/** The `format` of every signature document this module writes and reads. */
export const CARD_SIGNATURE_FORMAT = "spectral.card-signature/v1"

/** The `canonicalization` named in a signature document: RFC 8785 JSON Canonicalization Scheme. */
export const CARD_CANONICALIZATION = "JCS (RFC 8785)"

/**
 * Why a card could not be signed or did not verify. `field` names what changed (a card field such
 * as `verdict`, or `authority.ruleSetHash`) or, for a key problem, where the key came from.
 */
export class CardSignatureError extends Schema.TaggedError<CardSignatureError>()("CardSignatureError", {
  reason: Schema.Literals(["CardTampered", "SignatureMismatch", "WrongKey", "InvalidKey", "MissingKey", "MalformedSignature", "MalformedCard"]),
  field: Schema.NullOr(Schema.String),
  message: Schema.String
}) {}

const fail = (reason: CardSignatureError["reason"], message: string, field: string | null = null) =>
  new CardSignatureError({ reason, field, message })

const Sha256Hex = Schema.String.check(Schema.isPattern(/^[0-9a-f]{64}$/))

/** What is signed besides the card itself. */
export const CardSignatureStatement = Schema.Struct({
  format: Schema.Literal(CARD_SIGNATURE_FORMAT),
  algorithm: Schema.Literal("Ed25519"),
  canonicalization: Schema.Literal(CARD_CANONICALIZATION),
  kind: Schema.NonEmptyString,
  authority: Schema.NullOr(EvaluationAuthorityRef),
  publicKeyFingerprint: Sha256Hex,
  signedAt: Schema.String,
  cardDigest: Sha256Hex,
  fieldDigests: Schema.Record(Schema.String, Sha256Hex)
})
export type CardSignatureStatement = typeof CardSignatureStatement.Type

/** The detached signature document (`spectral card sign` writes it as JSON beside the card). */
export const CardSignatureDocument = Schema.Struct({
  ...CardSignatureStatement.fields,
  /** Ed25519 over `canonicalJson({ ...statement, card })`, base64. */
  signature: Schema.String.check(Schema.isPattern(/^[A-Za-z0-9+/]{86}==$/))
})
export type CardSignatureDocument = typeof CardSignatureDocument.Type

/** An Ed25519 key pair that signs cards. */
export interface CardSigningKey {
  readonly privateKey: Crypto.KeyObject
  readonly publicKey: Crypto.KeyObject
  readonly fingerprint: string
}

/** An Ed25519 public key that verifies cards. */
export interface CardVerifyingKey {
  readonly publicKey: Crypto.KeyObject
  readonly fingerprint: string
}

/** What a verified signature says. */
export interface CardVerification {
  readonly kind: string
  readonly authority: EvaluationAuthorityRef | null
  readonly publicKeyFingerprint: string
  readonly signedAt: string
  readonly cardDigest: string
}

type Json = null | boolean | number | string | ReadonlyArray<Json> | { readonly [key: string]: Json }

const serialize = (value: Json): string => {
  if (value === null || typeof value !== "object") return JSON.stringify(value)
  if (Array.isArray(value)) return `[${value.map(serialize).join(",")}]`
  const object = value as { readonly [key: string]: Json }
  // Default sort compares UTF-16 code units, as RFC 8785 requires.
  return `{${Object.keys(object).sort().map((key) => `${JSON.stringify(key)}:${serialize(object[key]!)}`).join(",")}}`
}

/** The JSON value of `value` as a file would hold it; a value JSON cannot hold (a bigint, a cycle) is an error. */
const toJson = (value: unknown, what: string) =>
  Effect.try({
    try: () => JSON.stringify(value) as string | undefined,
    catch: (error) => fail("MalformedCard", `${what} is not JSON: ${error instanceof Error ? error.message : String(error)}`)
  }).pipe(
    Effect.flatMap((text) => text === undefined ? Effect.fail(fail("MalformedCard", `${what} has no JSON form`)) : Effect.succeed(JSON.parse(text) as Json))
  )

/** Canonical JSON (RFC 8785 for JSON values): sorted keys, no whitespace. */
export const canonicalCardJson = (value: unknown): Effect.Effect<string, CardSignatureError> =>
  Effect.map(toJson(value, "the value"), serialize)

const sha256Hex = (data: string | Uint8Array) => Crypto.createHash("sha256").update(data).digest("hex")

/** The key's fingerprint: SHA-256 of its SubjectPublicKeyInfo DER, lowercase hex. */
export const publicKeyFingerprint = (publicKey: Crypto.KeyObject): string =>
  sha256Hex(publicKey.export({ type: "spki", format: "der" }))

const keyProblem = (source: string, error: unknown) =>
  fail("InvalidKey", `is not a usable PEM key (${error instanceof Error ? error.message : String(error)})`, source)

const requireEd25519 = (key: Crypto.KeyObject, source: string) =>
  key.asymmetricKeyType === "ed25519"
    ? Effect.succeed(key)
    : Effect.fail(fail("InvalidKey", `is ${key.asymmetricKeyType === undefined ? "a symmetric key" : `a key of type ${key.asymmetricKeyType}`}; card signatures use Ed25519 (spectral card keygen writes a key pair)`, source))

/** An Ed25519 private key (PKCS#8 PEM) that signs cards; `source` names where the PEM came from in errors. */
export const signingKeyFromPem = Effect.fn("CardSignature.signingKeyFromPem")(function*(pem: string | Redacted.Redacted<string>, source: string) {
  const text = Redacted.isRedacted(pem) ? Redacted.value(pem) : pem
  if (!text.includes("PRIVATE KEY-----")) {
    return yield* fail("InvalidKey", `is not a PEM private key (expected "-----BEGIN PRIVATE KEY-----"; spectral card keygen writes one)`, source)
  }
  const privateKey = yield* Effect.try({ try: () => Crypto.createPrivateKey(text), catch: (error) => keyProblem(source, error) })
  yield* requireEd25519(privateKey, source)
  const publicKey = Crypto.createPublicKey(privateKey)
  return { privateKey, publicKey, fingerprint: publicKeyFingerprint(publicKey) } satisfies CardSigningKey
})

/** An Ed25519 public key (SPKI PEM) that verifies cards; `source` names where the PEM came from in errors. */
export const verifyingKeyFromPem = Effect.fn("CardSignature.verifyingKeyFromPem")(function*(pem: string, source: string) {
  if (pem.includes("PRIVATE KEY-----")) {
    return yield* fail("InvalidKey", `is a private key; verify with the public key (the .pub.pem beside it), which is all an auditor needs`, source)
  }
  if (!pem.includes("-----BEGIN PUBLIC KEY-----")) {
    return yield* fail("InvalidKey", `is not a PEM public key (expected "-----BEGIN PUBLIC KEY-----")`, source)
  }
  const publicKey = yield* Effect.try({ try: () => Crypto.createPublicKey(pem), catch: (error) => keyProblem(source, error) })
  yield* requireEd25519(publicKey, source)
  return { publicKey, fingerprint: publicKeyFingerprint(publicKey) } satisfies CardVerifyingKey
})

/** A new Ed25519 key pair as PEM (private PKCS#8, public SPKI) with the public key's fingerprint. */
export const generateCardKeyPair = Effect.sync(() => {
  const { privateKey, publicKey } = Crypto.generateKeyPairSync("ed25519")
  return {
    privateKeyPem: privateKey.export({ type: "pkcs8", format: "pem" }).toString(),
    publicKeyPem: publicKey.export({ type: "spki", format: "pem" }).toString(),
    fingerprint: publicKeyFingerprint(publicKey)
  }
})

const cardObject = Effect.fnUntraced(function*(card: unknown) {
  const json = yield* toJson(card, "the card")
  if (!Predicate.isObject(json) || Array.isArray(json)) return yield* fail("MalformedCard", "the card is not a JSON object")
  return json as { readonly [key: string]: Json }
})

const decodeAuthority = Schema.decodeUnknownResult(Schema.NullOr(EvaluationAuthorityRef))

// Own properties throughout (`fromEntries`, `hasOwn`): a field named `constructor` or `__proto__` is a field like any other.
const digestsOf = (card: { readonly [key: string]: Json }): Record<string, string> =>
  Object.fromEntries(Object.keys(card).sort().map((key) => [key, sha256Hex(serialize(card[key]!))]))

const message = (statement: CardSignatureStatement, card: Json) => new TextEncoder().encode(serialize({ ...statement, card } as Json))

/**
 * Sign a card of the named kind. The card must be a JSON object with a top-level `authority`
 * (an EvaluationAuthorityRef, or null for a card no world model attributes); that ref is copied
 * into the signed statement.
 */
export const signCard = Effect.fn("CardSignature.sign")(function*(input: {
  readonly card: unknown
  readonly kind: string
  readonly key: CardSigningKey
}) {
  const card = yield* cardObject(input.card)
  if (!Object.hasOwn(card, "authority")) return yield* fail("MalformedCard", "the card has no authority field (the world model id, version and rule-set hash, or null)", "authority")
  const authority = decodeAuthority(card.authority)
  if (Result.isFailure(authority)) return yield* fail("MalformedCard", "the card's authority is not an EvaluationAuthorityRef {worldModelId, worldModelVersion, ruleSetHash}", "authority")
  const statement: CardSignatureStatement = {
    format: CARD_SIGNATURE_FORMAT,
    algorithm: "Ed25519",
    canonicalization: CARD_CANONICALIZATION,
    kind: input.kind,
    authority: authority.success,
    publicKeyFingerprint: input.key.fingerprint,
    signedAt: new Date(yield* Clock.currentTimeMillis).toISOString(),
    cardDigest: sha256Hex(serialize(card)),
    fieldDigests: digestsOf(card)
  }
  const signature = Crypto.sign(null, message(statement, card), input.key.privateKey).toString("base64")
  return { ...statement, signature } satisfies CardSignatureDocument
})

const formatIssue = SchemaIssue.makeFormatterDefault()
const issueLine = (error: Schema.SchemaError) => formatIssue(error.issue).replace(/\s*\n\s*/g, " ")

const authorityFields = ["worldModelId", "worldModelVersion", "ruleSetHash"] as const

/** The first field that differs between the signed digests and the card's, if any. */
const changedField = (signed: Readonly<Record<string, string>>, now: Readonly<Record<string, string>>) => {
  for (const key of Object.keys(signed).sort()) {
    if (!Object.hasOwn(now, key)) return { field: key, what: `field "${key}" was removed since the card was signed` }
    if (signed[key] !== now[key]) return { field: key, what: `field "${key}" changed since the card was signed` }
  }
  for (const key of Object.keys(now).sort()) {
    if (!Object.hasOwn(signed, key)) return { field: key, what: `field "${key}" was added since the card was signed` }
  }
  return undefined
}

/**
 * Verify a card against its signature document with a public key, offline. Fails naming what is
 * wrong: a signature document that does not decode (`MalformedSignature`), a key that is not the
 * signer's (`WrongKey`), a top-level field of the card — or a field of its authority ref — that
 * changed, was added or removed (`CardTampered`, `field` names it), or a signature that does not
 * verify although every field matches its digest (`SignatureMismatch`: the document was altered).
 */
export const verifyCard = Effect.fn("CardSignature.verify")(function*(input: {
  readonly card: unknown
  readonly signature: unknown
  readonly key: CardVerifyingKey
}) {
  const document = yield* Schema.decodeUnknownEffect(CardSignatureDocument)(input.signature).pipe(
    Effect.mapError((error) => fail("MalformedSignature", `not a ${CARD_SIGNATURE_FORMAT} signature document: ${issueLine(error)}`))
  )
  if (document.publicKeyFingerprint !== input.key.fingerprint) {
    return yield* fail(
      "WrongKey",
      `the card was signed by the key with fingerprint ${document.publicKeyFingerprint}, not by the public key given (fingerprint ${input.key.fingerprint})`,
      "publicKeyFingerprint"
    )
  }
  const card = yield* cardObject(input.card)
  // The authority ref first, so a changed ref is named down to its field.
  const authority = Predicate.isObject(card.authority) && !Array.isArray(card.authority) ? card.authority as { readonly [key: string]: Json } : null
  for (const field of authorityFields) {
    if ((document.authority?.[field] ?? null) !== (authority?.[field] ?? null)) {
      return yield* fail("CardTampered", `authority.${field} differs between the card and its signature document`, `authority.${field}`)
    }
  }
  const changed = changedField(document.fieldDigests, digestsOf(card))
  if (changed !== undefined) return yield* fail("CardTampered", changed.what, changed.field)
  const { signature, ...statement } = document
  const valid = Crypto.verify(null, message(statement, card), input.key.publicKey, Buffer.from(signature, "base64"))
  if (!valid) {
    return yield* fail(
      "SignatureMismatch",
      "the signature does not verify although every card field matches its signed digest: the signature document was altered (its signature, digests, kind or time)",
      "signature"
    )
  }
  return {
    kind: document.kind,
    authority: document.authority,
    publicKeyFingerprint: document.publicKeyFingerprint,
    signedAt: document.signedAt,
    cardDigest: document.cardDigest
  } satisfies CardVerification
})
