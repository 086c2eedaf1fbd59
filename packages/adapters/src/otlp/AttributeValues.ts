/**
 * OTLP attribute values as the store can keep them, shared by both decoders and the mapping:
 * - keys are set as own properties, so `__proto__`, `constructor` and other prototype names are
 *   ordinary keys (`setAttribute`), never a prototype change or a silent drop;
 * - arrays and key-value lists nest at most `maxAttributeDepth` levels inside an attribute (default
 *   32); a request with a deeper value is refused as malformed, naming the limit (`AttributeTooDeep`);
 * - PostgreSQL stores neither a NUL character nor a lone UTF-16 surrogate in text or JSONB, so a
 *   stored span has each written as its JSON-style escape (`\u0000`, `\ud800`): the span is kept,
 *   the value stays readable, and the receiver says what it escaped (`storableTrace`).
 * Owns no I/O.
 */
import type { Trace } from "@spectral/engine/contracts"

/** How deeply arrays and key-value lists may nest inside one attribute value, by default. */
export const defaultMaxAttributeDepth = 32

/** An attribute value nested deeper than the limit: the whole request is malformed (400). */
export class AttributeTooDeep {
  readonly limit: number
  constructor(limit: number) {
    this.limit = limit
  }
  get message(): string {
    return `attribute values nest deeper than ${this.limit} levels of arrays and key-value lists (the limit)`
  }
}

/** Set `key` as an own, enumerable property of `into`, whatever the key (`__proto__` included). */
export const setAttribute = (into: Record<string, unknown>, key: string, value: unknown): void => {
  if (key === "__proto__") Object.defineProperty(into, key, { value, enumerable: true, writable: true, configurable: true })
  else into[key] = value
}

const hex4 = (code: number) => code.toString(16).padStart(4, "0")

// NUL, or any surrogate (a well-formed pair is kept; only lone halves are escaped).
const suspicious = /[\u0000\ud800-\udfff]/

/** `text` with NUL and lone surrogates written as `\uXXXX`; the same string when it has none. */
export const escapeUnstorable = (text: string): string => {
  if (!suspicious.test(text)) return text
  let out = ""
  for (let i = 0; i < text.length; i++) {
    const code = text.charCodeAt(i)
    if (code === 0) out += "\\u0000"
    else if (code >= 0xd800 && code <= 0xdbff) {
      const next = i + 1 < text.length ? text.charCodeAt(i + 1) : 0
      if (next >= 0xdc00 && next <= 0xdfff) {
        out += text[i]! + text[i + 1]!
        i++
      } else out += `\\u${hex4(code)}`
    } else if (code >= 0xdc00 && code <= 0xdfff) out += `\\u${hex4(code)}`
    else out += text[i]!
  }
  return out
}

/** A JSON-like value with every string (and key) made storable; `escaped` names what changed. */
const storableValue = (value: unknown, path: string, escaped: Array<string>): unknown => {
  if (typeof value === "string") {
    const safe = escapeUnstorable(value)
    if (safe !== value) escaped.push(path)
    return safe
  }
  if (Array.isArray(value)) return value.map((item, i) => storableValue(item, `${path}[${i}]`, escaped))
  if (typeof value === "object" && value !== null) {
    const out: Record<string, unknown> = {}
    for (const [key, item] of Object.entries(value)) {
      const safeKey = escapeUnstorable(key)
      if (safeKey !== key) escaped.push(`${path} key "${safeKey}"`)
      setAttribute(out, safeKey, storableValue(item, `${path}."${safeKey}"`, escaped))
    }
    return out
  }
  return value
}

/** Whether any string or key in `value` would be escaped (no allocation: the common, clean case). */
const needsEscape = (value: unknown): boolean => {
  if (typeof value === "string") return suspicious.test(value) && escapeUnstorable(value) !== value
  if (Array.isArray(value)) return value.some(needsEscape)
  if (typeof value === "object" && value !== null) {
    for (const [key, item] of Object.entries(value)) if (needsEscape(key) || needsEscape(item)) return true
  }
  return false
}

/**
 * The trace with every text field and attribute (keys included) made storable, and the places that
 * were escaped (none, and the same trace, when it was storable as it came).
 */
export const storableTrace = (trace: Trace): { readonly trace: Trace; readonly escaped: ReadonlyArray<string> } => {
  const fields = [trace.name, trace.agentName, trace.input, trace.output]
  if (!fields.some(needsEscape) && !needsEscape(trace.attributes)) return { trace, escaped: [] }
  const escaped: Array<string> = []
  const text = (value: string, field: string) => storableValue(value, field, escaped) as string
  const optional = <K extends "agentName" | "input" | "output">(field: K) =>
    trace[field] === undefined ? {} : { [field]: text(trace[field]!, field) }
  const stored: Trace = {
    ...trace,
    name: text(trace.name, "name"),
    ...optional("agentName"),
    ...optional("input"),
    ...optional("output"),
    attributes: storableValue(trace.attributes, "attributes", escaped) as Record<string, unknown>
  }
  return { trace: stored, escaped }
}
