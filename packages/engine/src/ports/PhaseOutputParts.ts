/**
 * The large arrays of a saved phase output (`PhaseOutputParts` in contracts/PhaseOutputs.ts), kept
 * apart from its row: how a storage driver splits an output into the row it stores (a
 * `PhaseOutputPartRef` in place of each part) and the chunks of each part, and joins them back.
 * Both drivers apply these (so they cannot drift), as they apply `redactStimulusContent`. Pure: no
 * storage, no decoding (the phase's Schema decodes the joined value where it is read).
 */
import { Schema } from "effect"
import { type PhaseName, PhaseOutputPartRef, PhaseOutputParts, type PhaseOutputReference } from "../contracts/index.ts"

/** At most this many items in one stored chunk of a part. */
export const phaseOutputChunkItems = 1_000

/** One part of a phase output, as the chunks a driver stores (chunk `i` is `chunks[i]`). */
export interface PhaseOutputPart {
  readonly part: string
  readonly chunks: ReadonlyArray<ReadonlyArray<unknown>>
}

/** One stored chunk of a part, as a driver reads it back. */
export interface StoredPhaseOutputChunk {
  readonly part: string
  readonly chunk: number
  readonly items: ReadonlyArray<unknown>
}

/** What a driver stores for one phase output: the row (with references) and the parts' chunks. */
export interface SplitPhaseOutput {
  readonly stored: unknown
  readonly parts: ReadonlyArray<PhaseOutputPart>
}

/** A part a read could not put back, and why. */
export interface UnresolvedPart {
  readonly part: string
  readonly issue: string
}

const isRef = Schema.is(PhaseOutputPartRef)

const isRecord = (value: unknown): value is Readonly<Record<string, unknown>> =>
  typeof value === "object" && value !== null && !Array.isArray(value)

const pathOf = (part: string): ReadonlyArray<string> => part.split(".")

/** `node` with the value at `path` replaced by `f` of it (copied along the path only); `node` itself when the path is absent. */
const replaceAt = (node: unknown, path: ReadonlyArray<string>, f: (leaf: unknown) => unknown): unknown => {
  const [head, ...rest] = path
  if (head === undefined) return f(node)
  if (!isRecord(node) || !Object.hasOwn(node, head)) return node
  const child = node[head]
  const next = replaceAt(child, rest, f)
  return next === child ? node : { ...node, [head]: next }
}

const valueAt = (node: unknown, path: ReadonlyArray<string>): unknown => {
  let at = node
  for (const key of path) {
    if (!isRecord(at) || !Object.hasOwn(at, key)) return undefined
    at = at[key]
  }
  return at
}

const partsOf = (phase: PhaseName): ReadonlyArray<string> => PhaseOutputParts[phase] ?? []

/**
 * Split a phase output: every declared part that is an array is cut into chunks of at most
 * `phaseOutputChunkItems` and replaced by its reference. Anything else (a value of another shape,
 * an absent part such as a null winner) is stored as it is.
 */
export const splitPhaseOutput = (phase: PhaseName, output: unknown): SplitPhaseOutput => {
  const parts: Array<PhaseOutputPart> = []
  let stored = output
  for (const part of partsOf(phase)) {
    stored = replaceAt(stored, pathOf(part), (leaf) => {
      if (!Array.isArray(leaf)) return leaf
      const items: ReadonlyArray<unknown> = leaf
      const chunks: Array<ReadonlyArray<unknown>> = []
      for (let at = 0; at < items.length; at += phaseOutputChunkItems) chunks.push(items.slice(at, at + phaseOutputChunkItems))
      parts.push({ part, chunks })
      const ref: PhaseOutputPartRef = { _tag: "PhaseOutputPart", part, items: items.length, chunks: chunks.length }
      return ref
    })
  }
  return { stored, parts }
}

/** Why `chunks` (of one part, any order) do not make up what `ref` says; undefined when they do. */
const chunkIssue = (ref: PhaseOutputPartRef, part: string, chunks: ReadonlyArray<StoredPhaseOutputChunk>): string | undefined => {
  if (ref.part !== part) return `the reference at ${part} names part ${ref.part}`
  const seen = new Set(chunks.map((c) => c.chunk))
  for (let i = 0; i < ref.chunks; i++) if (!seen.has(i)) return `chunk ${i} of ${ref.chunks} is missing`
  const extra = chunks.find((c) => c.chunk < 0 || c.chunk >= ref.chunks)
  if (extra !== undefined) return `holds chunk ${extra.chunk}, the reference has ${ref.chunks}`
  const items = chunks.reduce((n, c) => n + c.items.length, 0)
  if (items !== ref.items) return `holds ${items} items, the reference has ${ref.items}`
  return undefined
}

/**
 * Put a stored phase output's parts back from their chunks (of that one output, in any order). A
 * reference whose chunks are missing, extra or short stays a reference, with `unresolved` saying
 * what is wrong, so the phase's Schema (and `unresolvedPhaseOutputParts`) refuses it; a value
 * stored whole (before parts existed) reads as it was.
 */
export const joinPhaseOutput = (phase: PhaseName, stored: unknown, chunks: ReadonlyArray<StoredPhaseOutputChunk>): unknown => {
  let value = stored
  for (const part of partsOf(phase)) {
    value = replaceAt(value, pathOf(part), (leaf) => {
      if (!isRef(leaf)) return leaf
      const own = chunks.filter((c) => c.part === part)
      const issue = chunkIssue(leaf, part, own)
      if (issue !== undefined) return { ...leaf, unresolved: issue }
      return [...own].sort((a, b) => a.chunk - b.chunk).flatMap((c) => c.items)
    })
  }
  return value
}

/** The parts of a read-back phase output that are still references (their chunks were missing or short). */
export const unresolvedPhaseOutputParts = (phase: PhaseName, value: unknown): ReadonlyArray<UnresolvedPart> =>
  partsOf(phase).flatMap((part) => {
    const leaf = valueAt(value, pathOf(part))
    return isRef(leaf) ? [{ part, issue: leaf.unresolved ?? "its chunks were not read" }] : []
  })

/** What a phase's durable step replies for `output`: the phase and the size of each of its parts. */
export const phaseOutputReference = (phase: PhaseName, output: unknown): PhaseOutputReference => ({
  phase,
  parts: partsOf(phase).flatMap((part) => {
    const leaf = valueAt(output, pathOf(part))
    return Array.isArray(leaf) ? [{ part, items: leaf.length }] : []
  })
})

/**
 * A top-level field of a phase output (`ScanRepo.phaseOutputFieldOf`); `undefined` when the output
 * is no object or has no such field.
 */
export const phaseOutputField = (output: unknown, field: string): unknown =>
  typeof output === "object" && output !== null && !Array.isArray(output) && Object.hasOwn(output, field)
    ? (output as Record<string, unknown>)[field]
    : undefined

/** Whether a top-level field of `phase`'s outputs holds one of its parts (or is one). */
export const phaseOutputFieldHasParts = (phase: PhaseName, field: string): boolean =>
  (PhaseOutputParts[phase] ?? []).some((part) => part === field || part.startsWith(`${field}.`))
