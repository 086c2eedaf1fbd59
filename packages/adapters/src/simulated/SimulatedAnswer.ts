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
import { Schema } from "effect"
import { FnvOffsetBasis, hashString, JUDGE_MARKER, META_PROMPT_MARKER, seededGenerator } from "@spectral/engine"
import { calculateOvertime, extractWorker, judgeOvertime } from "./FlsaSkills.ts"
import { rewriteInstruction } from "./MetaPromptSkill.ts"
import { advise, intake, judge, type PromptFeatures } from "./TaxSkills.ts"

const parseJson = Schema.decodeUnknownOption(Schema.fromJsonString(Schema.Unknown))

const jsonAfter = (text: string, marker: RegExp): Record<string, unknown> | undefined => {
  const m = marker.exec(text)
  if (m === null) return undefined
  const start = text.indexOf("{", m.index)
  const end = text.indexOf("\n", start)
  const value = parseJson(text.slice(start, end < 0 ? undefined : end))
  return value._tag === "Some" && typeof value.value === "object" && value.value !== null ? value.value as Record<string, unknown> : undefined
}

const stimulusOf = (user: string): string => {
  const at = user.lastIndexOf("Input:\n")
  if (at < 0) return user
  const rest = user.slice(at + "Input:\n".length)
  const answerAt = rest.indexOf("\n\nAnswer:\n")
  return answerAt < 0 ? rest : rest.slice(0, answerAt)
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
  const fieldsKey = system.match(/exactly these fields: ([^\n]+)\./)?.[1] ?? ""
  const key = system.startsWith(JUDGE_MARKER) || system.startsWith(META_PROMPT_MARKER)
    ? `${system}\u0000${user}\u0000${params.temperature}`
    : `${stimulusOf(user)}\u0000${fieldsKey}`
  // A pinned model version and retrieval settings are part of the configuration the dice depend on
  // (absent, the draws are what they always were).
  const configuration = (params.modelVersion === undefined || params.modelVersion === "" ? "" : `\u0000v=${params.modelVersion}`) +
    (params.retrieval === undefined ? "" : `\u0000r=${params.retrieval.topK}/${params.retrieval.similarityThreshold}`)
  const rng = seededGenerator(hashString(`${key}\u0000${params.epoch}\u0000${params.seed ?? 0}${configuration}`, FnvOffsetBasis ^ modelSeed))
  const lowerSystem = system.toLowerCase()
  if (system.startsWith(JUDGE_MARKER)) {
    const dims = [...system.matchAll(/^- ([\w.-]+): /gm)].map((m) => m[1]!)
    const answerAt = user.indexOf("\n\nAnswer:\n")
    const answer = answerAt < 0 ? {} : parseJson(user.slice(answerAt + "\n\nAnswer:\n".length)).pipe((o) => (o._tag === "Some" ? o.value as Record<string, unknown> : {}))
    const stimulus = stimulusOf(user)
    return JSON.stringify(/\bovertime\b/i.test(stimulus) ? judgeOvertime(stimulus, answer, dims, rng) : judge(stimulus, answer, dims, rng))
  }
  if (system.startsWith(META_PROMPT_MARKER)) return rewriteInstruction(user, params.temperature, rng)
  const fieldsMatch = system.match(/exactly these fields: ([^\n]+)\./)
  const fields = fieldsMatch === null ? [] : fieldsMatch[1]!.split(",").map((f) => f.trim())
  const features: PromptFeatures = {
    system: lowerSystem,
    examples: user.split("\n\n").filter((block) => block.startsWith("Example ")).join("\n").toLowerCase(),
    chainOfThought: /reason step by step/.test(lowerSystem) ? "full" : /think briefly/.test(lowerSystem) ? "brief" : "none",
    temperature: params.temperature
  }
  // Too hot: sometimes no JSON at all.
  if (rng.next() < Math.max(0, params.temperature - 1) * 0.5) return "Honestly it depends on a few things; I would guess head of household."
  let body: Record<string, unknown>
  if (fields.includes("filingStatus")) {
    const upstream = jsonAfter(user, /\(from [^)]+\):/)
    body = advise(upstream, stimulusOf(user), features, rng)
  } else if (fields.includes("maritalStatus")) {
    body = intake(stimulusOf(user), features, rng).facts
  } else if (fields.includes("exemptionStatus")) {
    const upstream = jsonAfter(user, /\(from [^)]+\):/)
    body = calculateOvertime(upstream, stimulusOf(user), features, rng)
  } else if (fields.includes("primaryDuty")) {
    body = extractWorker(stimulusOf(user), features, rng)
  } else {
    body = Object.fromEntries(fields.map((f) => [f, ""]))
  }
  const json = JSON.stringify(Object.fromEntries(Object.entries(body).filter(([k]) => fields.length === 0 || fields.includes(k))))
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
