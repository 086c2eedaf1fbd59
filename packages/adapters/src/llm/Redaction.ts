/**
 * Secrets out of what a model provider says: the configured API key wherever it appears, and
 * anything shaped like a provider key (`sk-…`, masked ones such as `sk-ab***yz` included), a
 * Spectral ingest key (`spk_…`) or a bearer token, each replaced by `[redacted]`. The provider
 * applies it to every answer before it is cached or returned and to every error text before it
 * becomes an `AiError`, so traces, the response cache, scan failure reasons and what the CLI prints
 * never hold a key a provider echoed back. Hosts apply the same rule to what they print.
 *
 * Owns: the patterns and the walk over JSON values. Not here: where it is applied (OpenAiCompatible).
 */
import { Redacted } from "effect"

export const REDACTED = "[redacted]"

const keyShapes: ReadonlyArray<readonly [RegExp, string]> = [
  // OpenAI-style keys (sk-…, sk-proj-…), also as providers mask them in their error texts.
  [/\bsk-[A-Za-z0-9_*.-]{6,}/g, REDACTED],
  // Spectral's OTLP ingest keys.
  [/\bspk_[A-Za-z0-9_-]{8,}/g, REDACTED],
  [/\b(Bearer|Basic)\s+[A-Za-z0-9._~+/=*-]{8,}/gi, `$1 ${REDACTED}`]
]

export interface Redactor {
  readonly text: (text: string) => string
  /** A copy of a JSON value with every string redacted (keys and numbers stay). */
  readonly json: <A>(value: A) => A
}

/** Literal secrets shorter than this are not searched for (a placeholder such as `none` is no secret). */
const MIN_SECRET_LENGTH = 6

export const make = (secrets: ReadonlyArray<string | Redacted.Redacted<string> | undefined>): Redactor => {
  const literals = secrets
    .map((secret) => (secret === undefined ? "" : Redacted.isRedacted(secret) ? Redacted.value(secret) : secret).trim())
    .filter((secret) => secret.length >= MIN_SECRET_LENGTH)
    // The longest first, so a key that contains another is replaced whole.
    .sort((a, b) => b.length - a.length)
  const text = (input: string): string => {
    let out = input
    for (const literal of literals) if (out.includes(literal)) out = out.split(literal).join(REDACTED)
    for (const [pattern, replacement] of keyShapes) out = out.replace(pattern, replacement)
    return out
  }
  const walk = (value: unknown): unknown => {
    if (typeof value === "string") return text(value)
    if (Array.isArray(value)) return value.map(walk)
    if (value !== null && typeof value === "object") {
      return Object.fromEntries(Object.entries(value).map(([key, inner]) => [key, walk(inner)]))
    }
    return value
  }
  return { text, json: <A>(value: A) => walk(value) as A }
}
