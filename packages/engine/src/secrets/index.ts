/** Workspace secrets: the key-encryption key's provider, AEAD sealing, the service and its errors. */
export * from "./SecretError.ts"
export * from "./KeyProvider.ts"
export * from "./WorkspaceSecrets.ts"
