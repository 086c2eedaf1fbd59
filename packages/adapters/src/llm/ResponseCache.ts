/**
 * The response cache port for model calls: a plain key → response-JSON store. Keys are SHA-256
 * hex digests of the full request (computed by the provider, see `OpenAiCompatible.requestKey`);
 * values are the provider's successful response body as JSON text. The port knows nothing of
 * models: deciding what may be cached (never errors, never unparseable or truncated output) is
 * the provider's job. `get` and `put` run on the calling fiber, so a SQL driver can read
 * `CallContext` (workspace) from it for row-level security.
 *
 * Owns: the service, its error, the in-memory layer and a disabled layer. Not here: the SQL-backed
 * layer (storage adapters).
 */
import { Context, Effect, Layer, Option, Schema } from "effect"

export class ResponseCacheError extends Schema.TaggedError<ResponseCacheError>()("ResponseCacheError", {
  operation: Schema.Literals(["get", "put"]),
  cause: Schema.Defect()
}) {}

export class ResponseCache extends Context.Service<ResponseCache, {
  readonly get: (key: string) => Effect.Effect<Option.Option<string>, ResponseCacheError>
  readonly put: (key: string, responseJson: string) => Effect.Effect<void, ResponseCacheError>
}>()("@spectral/adapters/llm/ResponseCache") {
  /** A process-local map; entries live as long as the layer. */
  static readonly layerMemory: Layer.Layer<ResponseCache> = Layer.sync(ResponseCache, () => makeMemory())

  /** Never hits, never stores: every call goes to the provider. */
  static readonly layerDisabled: Layer.Layer<ResponseCache> = Layer.succeed(ResponseCache, ResponseCache.of({
    get: () => Effect.succeed(Option.none()),
    put: () => Effect.void
  }))
}

export const makeMemory = (): ResponseCache["Service"] => {
  const entries = new Map<string, string>()
  return ResponseCache.of({
    get: (key) => Effect.sync(() => Option.fromUndefinedOr(entries.get(key))),
    put: (key, responseJson) => Effect.sync(() => void entries.set(key, responseJson))
  })
}
