/**
 * What the SIMULATED language model answers to one prompt: deterministic for (model seed, prompt,
 * parameters, epoch), with common random numbers across prompt wordings for one stimulus. Reads
 * the prompt (which skill is asked, the output fields, the stimulus, an upstream agent's JSON, the
 * prompt's features) and hands it to a skill: tax intake, filing-status advice and judging
 * (TaxSkills), overtime extraction, calculation and judging (FlsaSkills), or the prompt engineer's
 * rewrite (MetaPromptSkill); any other prompt gets the requested fields empty. The dice are the
 * engine's FNV-1a hash and mulberry32 generator. Not here: the LanguageModel service (latency,
 * token counts, truncation), which is SimulatedLanguageModel.ts.
 */
import { Result } from "effect"
import { FnvOffsetBasis, hashString, JUDGE_MARKER, META_PROMPT_MARKER, seededGenerator } from "@spectral/engine"
import { calculateOvertime, extractWorker, judgeOvertime } from "./FlsaSkills.ts"
import { rewriteInstruction } from "./MetaPromptSkill.ts"
import { advise, intake, judge, type PromptFeatures } from "./TaxSkills.ts"
import { boundedMemo } from "./BoundedMemo.ts"

/** JSON text to a value, `undefined` when it is not JSON. */
const parseJson = (text: string): unknown => Result.getOrUndefined(Result.try(() => JSON.parse(text) as unknown))

const jsonAfter = (text: string, marker: RegExp): Record<string, unknown> | undefined => {
  const m = marker.exec(text)
  if (m === null) return undefined
  const start = text.indexOf("{", m.index)
  const end = text.indexOf("\n", start)
  const value = parseJson(text.slice(start, end < 0 ? undefined : end))
  return typeof value === "object" && value !== null ? value as Record<string, unknown> : undefined
}

const stimulusOf = (user: string): string => {
  const at = user.lastIndexOf("Input:\n")
  if (at < 0) return user
  const rest = user.slice(at + "Input:\n".length)
  const answerAt = rest.indexOf("\n\nAnswer:\n")
  return answerAt < 0 ? rest : rest.slice(0, answerAt)
}

/** What the model reads off a system prompt (memoized: one system prompt serves every stimulus). */
const readSystem = boundedMemo(1024, (system: string) => {
  const fieldsKey = system.match(/exactly these fields: ([^\n]+)\./)?.[1]
  const lower = system.toLowerCase()
  return {
    fieldsKey: fieldsKey ?? "",
    fields: fieldsKey === undefined ? [] : fieldsKey.split(",").map((f) => f.trim()),
    lower,
    judge: system.startsWith(JUDGE_MARKER),
    metaPrompt: system.startsWith(META_PROMPT_MARKER),
    dimensions: [...system.matchAll(/^- ([\w.-]+): /gm)].map((m) => m[1]!),
    chainOfThought: (/reason step by step/.test(lower) ? "full" : /think briefly/.test(lower) ? "brief" : "none") as PromptFeatures["chainOfThought"],
    /** By hash seed: FNV-1a's state after this system prompt and the separator (a judge's dice hash the system prompt first). */
    systemHashStates: new Map<number, number>()
  }
})

/** `hashString(system + "\u0000" + rest, seed)`, the system prompt's part read from its memo (FNV-1a is a left fold). */
const hashAfterSystem = (read: ReturnType<typeof readSystem>, system: string, rest: string, seed: number): number => {
  let state = read.systemHashStates.get(seed)
  if (state === undefined) {
    state = hashString(`${system}\u0000`, seed)
    read.systemHashStates.set(seed, state)
  }
  return hashString(rest, state)
}

/** The prompt's few-shot example blocks, lower-cased ("" without any). */
const examplesOf = (user: string): string =>
  !user.startsWith("Example ") && !user.includes("\n\nExample ")
    ? ""
    : user.split("\n\n").filter((block) => block.startsWith("Example ")).join("\n").toLowerCase()

/**
 * The body's requested fields, in the body's own order (a plain object built key by key: what
 * `Object.fromEntries` over the filtered entries gives, without the entry arrays or a dictionary-mode object).
 */
const requestedFields = (body: Record<string, unknown>, fields: ReadonlyArray<string>): Record<string, unknown> => {
  const out: Record<string, unknown> = {}
  for (const key of Object.keys(body)) {
    if (!fields.includes(key)) continue
    if (key === "__proto__") Object.defineProperty(out, key, { value: body[key], enumerable: true, writable: true, configurable: true })
    else out[key] = body[key]
  }
  return out
}

/** The answer text the simulated model gives to one prompt. */
export const simulatedAnswer = (
  system: string,
  user: string,
  params: {
    temperature: number
    epoch: number
    seed?: number | undefined
    modelVersion?: string | undefined
    retrieval?: { readonly topK: number; readonly similarityThreshold: number } | undefined
  },
  modelSeed: number
): string => {
  // Common random numbers: the model's dice for an agent's answer depend on the stimulus, the
  // agent's output fields, the repeat and the seeds — not on the prompt's wording — so a prompt
  // change acts through what the prompt says (guidance, examples, reasoning, temperature), and two
  // configurations are compared on the same draws, like a real model run with a fixed seed.
  const read = readSystem(system)
  const stimulus = stimulusOf(user)
  // A pinned model version and retrieval settings are part of the configuration the dice depend on
  // (absent, the draws are what they always were).
  const configuration = (params.modelVersion === undefined || params.modelVersion === "" ? "" : `\u0000v=${params.modelVersion}`) +
    (params.retrieval === undefined ? "" : `\u0000r=${params.retrieval.topK}/${params.retrieval.similarityThreshold}`)
  const draw = `\u0000${params.epoch}\u0000${params.seed ?? 0}${configuration}`
  // The dice's key: system prompt, prompt and temperature for a judge or a rewrite (the system
  // prompt's share of the hash comes from its memo), else the stimulus and the output fields.
  const rng = seededGenerator(
    read.judge || read.metaPrompt
      ? hashAfterSystem(read, system, `${user}\u0000${params.temperature}${draw}`, FnvOffsetBasis ^ modelSeed)
      : hashString(`${stimulus}\u0000${read.fieldsKey}${draw}`, FnvOffsetBasis ^ modelSeed)
  )
  if (read.judge) {
    const answerAt = user.indexOf("\n\nAnswer:\n")
    const answer = (answerAt < 0 ? undefined : parseJson(user.slice(answerAt + "\n\nAnswer:\n".length)) ?? {}) as Record<string, unknown>
    return JSON.stringify(/\bovertime\b/i.test(stimulus) ? judgeOvertime(stimulus, answer, read.dimensions, rng) : judge(stimulus, answer, read.dimensions, rng))
  }
  if (read.metaPrompt) return rewriteInstruction(user, params.temperature, rng)
  const fields = read.fields
  const features: PromptFeatures = {
    system: read.lower,
    examples: examplesOf(user),
    chainOfThought: read.chainOfThought,
    temperature: params.temperature
  }
  // Too hot: sometimes no JSON at all.
  if (rng.next() < Math.max(0, params.temperature - 1) * 0.5) return "Honestly it depends on a few things; I would guess head of household."
  let body: Record<string, unknown>
  if (fields.includes("filingStatus")) {
    const upstream = jsonAfter(user, /\(from [^)]+\):/)
    body = advise(upstream, stimulus, features, rng)
  } else if (fields.includes("maritalStatus")) {
    body = intake(stimulus, features, rng).facts
  } else if (fields.includes("exemptionStatus")) {
    const upstream = jsonAfter(user, /\(from [^)]+\):/)
    body = calculateOvertime(upstream, stimulus, features, rng)
  } else if (fields.includes("primaryDuty")) {
    body = extractWorker(stimulus, features, rng)
  } else {
    body = Object.fromEntries(fields.map((f) => [f, ""]))
  }
  const json = JSON.stringify(fields.length === 0 ? body : requestedFields(body, fields))
  const overtime = fields.includes("exemptionStatus") || fields.includes("primaryDuty")
  const reasoning = features.chainOfThought === "full" && overtime
    ? "Reasoning: I checked coverage, the pay basis and salary level, the primary duty against each exemption, then the hours over 40.\n"
    : features.chainOfThought === "full"
    ? "Reasoning: I checked marital status on December 31, who lived in the home and for how long, who paid the costs, and each status test in turn.\n"
    : features.chainOfThought === "brief"
    ? "Reasoning: checked the deciding facts.\n"
    : ""
  return reasoning + json
}
