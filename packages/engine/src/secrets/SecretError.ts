/**
 * The one error of workspace secrets, with a `reason` union: MissingKeyEncryptionKey (no KEK is
 * configured), InvalidKeyEncryptionKey (a configured KEK is not 32 bytes of base64), UnknownKeyEncryptionKey
 * (a secret sealed under a KEK that is no longer configured, named by fingerprint), NotSealedHere (the
 * ciphertext does not open under this workspace and name: tampered, or copied from another workspace),
 * NotFound, InvalidSecret (a bad name or an empty value), Storage (the repository failed).
 * Messages name the workspace, the secret and the fingerprint, never a value.
 */
import { Schema } from "effect"

export const SecretErrorReason = Schema.Literals([
  "MissingKeyEncryptionKey",
  "InvalidKeyEncryptionKey",
  "UnknownKeyEncryptionKey",
  "NotSealedHere",
  "NotFound",
  "InvalidSecret",
  "Storage"
])
export type SecretErrorReason = typeof SecretErrorReason.Type

export class SecretError extends Schema.TaggedError<SecretError>()("SecretError", {
  reason: SecretErrorReason,
  message: Schema.String
}) {}

export const secretError = (reason: SecretErrorReason, message: string) => new SecretError({ reason, message })
