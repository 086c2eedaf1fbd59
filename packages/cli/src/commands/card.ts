/**
 * `spectral card …`: the trust artifacts of a card file (an AgentPerformanceCard or a WorldModelCard
 * as JSON).
 * - `sign --input CARD.json [--key FILE] [--output SIG.json]`: a detached Ed25519 signature document
 *   (the engine's `CardSignature`) with the authority ref and the key's fingerprint; the key comes
 *   from `--key`, `SPECTRAL_SIGNING_KEY_FILE` or `SPECTRAL_SIGNING_KEY`, never generated here.
 * - `verify --input CARD.json --signature SIG.json [--public-key FILE]`: offline; prints
 *   `{"verified":true,"kind","authority","publicKeyFingerprint","signedAt","cardDigest"}`, or fails
 *   (exit 2) naming the field that changed, the wrong key, the malformed signature.
 * - `keygen --out DIR`: writes a key pair, explicitly.
 * - `pdf --input CARD.json --out CARD.pdf`: the card's HTML printed by headless Chromium, with the
 *   exact footer on every page.
 * Failures are `CliFailure`'s one `{"error"}` line; every problem with what was given is exit 2.
 */
import { Console, Effect, FileSystem, Option } from "effect"
import { Command, Flag } from "effect/cli"
import { CardSignatureError, signCard, verifyCard } from "@spectral/engine"
import { reportFailures } from "../CliFailure.ts"
import { CliInputError, readJsonFile, writeJsonOutput } from "../CliIo.ts"
import { cardFooter, cardHtml, decodeCardDocument } from "../cards/CardDocument.ts"
import { loadSigningKey, loadVerifyingKey, writeCardKeyPair } from "../cards/CardKeys.ts"
import { type CardPdfError, renderCardPdf } from "../cards/CardPdf.ts"

/** The files a signature problem is about, to name the right one. */
interface Inputs {
  readonly card: string
  readonly signature?: string | undefined
  readonly key?: string | undefined
}

/** A signing or verification failure as bad input naming the card, the signature or the key. */
const asInputError = (inputs: Inputs) => (error: CardSignatureError): CliInputError => {
  switch (error.reason) {
    case "CardTampered":
      return new CliInputError({ file: inputs.card, message: `does not verify: ${error.message}` })
    case "MalformedCard":
      return new CliInputError({ file: inputs.card, message: error.message })
    case "MalformedSignature":
      return new CliInputError({ file: inputs.signature ?? "--signature", message: error.message })
    case "SignatureMismatch":
      return new CliInputError({ file: inputs.signature ?? "--signature", message: `does not verify: ${error.message}` })
    case "WrongKey":
      return new CliInputError({ file: inputs.key ?? error.field ?? "--public-key", message: `does not verify: ${error.message}` })
    case "InvalidKey":
    case "MissingKey":
      return new CliInputError({ file: error.field ?? "--key", message: error.message })
  }
}

/** A signing or verification failure of `self` as a CliInputError (exit 2) naming the file it is about. */
const asBadInput = (inputs: Inputs) => <A, E, R>(self: Effect.Effect<A, E, R>) =>
  Effect.catchIf(self, (error): error is E & CardSignatureError => error instanceof CardSignatureError, (error) => Effect.fail(asInputError(inputs)(error)))

const cardFlag = Flag.String("input").pipe(Flag.withDescription("The card as JSON: agent-performance-card.json (spectral scan --output) or a WorldModelCard (spectral world card --format json)"))
const outFlag = (description: string) => Flag.String("output").pipe(Flag.withAlias("out"), Flag.withDescription(description))

const sign = Command.make(
  "sign",
  {
    input: cardFlag,
    key: Flag.String("key").pipe(
      Flag.withDescription("Ed25519 private key, PEM (else SPECTRAL_SIGNING_KEY_FILE, or the PEM in SPECTRAL_SIGNING_KEY)"),
      Flag.optional
    ),
    output: outFlag("Write the signature document here instead of stdout").pipe(Flag.optional)
  },
  Effect.fn("card.sign")(function*({ input, key, output }) {
    const raw = yield* readJsonFile(input)
    const document = yield* decodeCardDocument(raw, input)
    const signed = yield* loadSigningKey(key).pipe(
      Effect.flatMap((signingKey) => signCard({ card: raw, kind: document.kind, key: signingKey })),
      asBadInput({ card: input })
    )
    yield* writeJsonOutput(output, signed)
  }, reportFailures)
).pipe(
  Command.withDescription("Sign a card: a detached Ed25519 signature over its canonical JSON, with the authority ref and the key's fingerprint"),
  Command.withExamples([
    { command: "spectral card sign --input agent-performance-card.json --key card-signing-key.pem --out agent-performance-card.sig.json", description: "Sign the card a scan wrote" }
  ])
)

const verify = Command.make(
  "verify",
  {
    input: cardFlag,
    signature: Flag.String("signature").pipe(Flag.withDescription("The signature document spectral card sign wrote")),
    publicKey: Flag.String("public-key").pipe(Flag.withDescription("The signer's Ed25519 public key, PEM (else SPECTRAL_VERIFY_KEY_FILE)"), Flag.optional)
  },
  Effect.fn("card.verify")(function*({ input, signature, publicKey }) {
    const card = yield* readJsonFile(input)
    const document = yield* readJsonFile(signature)
    const verified = yield* loadVerifyingKey(publicKey).pipe(
      Effect.flatMap((key) => verifyCard({ card, signature: document, key })),
      asBadInput({ card: input, signature, key: Option.getOrUndefined(publicKey) })
    )
    yield* Console.log(JSON.stringify({ verified: true, ...verified }))
  }, reportFailures)
).pipe(
  Command.withDescription("Verify a card against its signature, offline, with the signer's public key; fails naming the field that changed"),
  Command.withExamples([
    { command: "spectral card verify --input card.json --signature card.sig.json --public-key card-signing-key.pub.pem", description: "An auditor's check" }
  ])
)

const keygen = Command.make(
  "keygen",
  { output: outFlag("Folder to write card-signing-key.pem (0600) and card-signing-key.pub.pem into (created when missing)") },
  Effect.fn("card.keygen")(function*({ output }) {
    yield* Console.log(JSON.stringify(yield* writeCardKeyPair(output)))
  }, reportFailures)
).pipe(Command.withDescription("Write a new Ed25519 key pair for signing cards (never overwrites a key)"))

/** No Chromium is an environment the user fixes (exit 2); a Chromium that fails is internal. */
const chromiumMissing = (error: CardPdfError) =>
  error.reason === "ChromiumNotFound" ? new CliInputError({ file: "chromium", message: error.message }) : error

const pdf = Command.make(
  "pdf",
  { input: cardFlag, output: outFlag("The PDF file to write") },
  Effect.fn("card.pdf")(function*({ input, output }) {
    const document = yield* decodeCardDocument(yield* readJsonFile(input), input)
    const bytes = yield* renderCardPdf(cardHtml(document), cardFooter(document)).pipe(Effect.mapError(chromiumMissing))
    const fs = yield* FileSystem.FileSystem
    yield* fs.writeFile(output, bytes).pipe(
      Effect.mapError((error) => new CliInputError({ file: output, message: `cannot write: ${error.reason.description ?? error.reason._tag}` }))
    )
    yield* Console.log(JSON.stringify({ output, kind: document.kind, bytes: bytes.length }))
  }, reportFailures)
).pipe(
  Command.withDescription("Print a card to PDF through headless Chromium (SPECTRAL_CHROMIUM or /usr/bin/chromium), the exact footer on every page"),
  Command.withExamples([{ command: "spectral card pdf --input agent-performance-card.json --out card.pdf", description: "A card to share as a file" }])
)

export const card = Command.make("card").pipe(
  Command.withDescription("Cards as trust artifacts: sign, verify, make a signing key, print to PDF"),
  Command.withSubcommands([sign, verify, keygen, pdf])
)
