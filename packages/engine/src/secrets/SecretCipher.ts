/**
 * Sealing and opening one secret: AES-256-GCM (node's crypto) under the key-encryption key, a random
 * 12-byte nonce per seal, and the workspace id and the secret's name as associated data, so a
 * ciphertext copied to another workspace or renamed does not open. Pure apart from the nonce.
 */
import * as Crypto from "node:crypto"
import { Redacted } from "effect"
import type { KeyEncryptionKey } from "./KeyProvider.ts"

export interface Sealed {
  readonly kekFingerprint: string
  readonly iv: string
  readonly ciphertext: string
  readonly tag: string
}

const associatedData = (workspaceId: string, name: string) => Buffer.from(`spectral-secret\u0000${workspaceId}\u0000${name}`, "utf8")

export const seal = (kek: KeyEncryptionKey, workspaceId: string, name: string, value: Redacted.Redacted<string>): Sealed => {
  const iv = Crypto.randomBytes(12)
  const cipher = Crypto.createCipheriv("aes-256-gcm", Redacted.value(kek.key), iv)
  cipher.setAAD(associatedData(workspaceId, name))
  const ciphertext = Buffer.concat([cipher.update(Redacted.value(value), "utf8"), cipher.final()])
  return { kekFingerprint: kek.fingerprint, iv: iv.toString("base64"), ciphertext: ciphertext.toString("base64"), tag: cipher.getAuthTag().toString("base64") }
}

/** The plaintext, or undefined when authentication fails (wrong key, workspace, name, or a changed byte). */
export const open = (kek: KeyEncryptionKey, workspaceId: string, name: string, sealed: Sealed): Redacted.Redacted<string> | undefined => {
  try {
    const decipher = Crypto.createDecipheriv("aes-256-gcm", Redacted.value(kek.key), Buffer.from(sealed.iv, "base64"))
    decipher.setAAD(associatedData(workspaceId, name))
    decipher.setAuthTag(Buffer.from(sealed.tag, "base64"))
    const plain = Buffer.concat([decipher.update(Buffer.from(sealed.ciphertext, "base64")), decipher.final()])
    return Redacted.make(plain.toString("utf8"))
  } catch {
    return undefined
  }
}
