/**
 * The exporter boundary of the engine's telemetry: a span processor in front of the exporting one
 * that hands it each ended span as its workspace's content class allows (`ContentClass.ts`).
 * Content attributes (GenAI messages, prompts, completions, tool arguments and results, the
 * `spectral.content.*` namespace and other frameworks' input/output keys), the same keys on span
 * events, exception messages and stack traces, printed causes, the text of log lines recorded as
 * events, and the span's error description are dropped (`platform`) or replaced by a length
 * marker (`operations`); `synthetic` spans pass unchanged.
 * A span's workspace is its `spectral.workspace.id`, else that of another span of its trace seen
 * earlier, else none (the default class). It does not decide what the engine attaches: that is
 * `SpanContent`, which it backs up.
 */
import type { Context as OtelContext, Attributes, AttributeValue, SpanStatus } from "@opentelemetry/api"
import type { ReadableSpan, Span, SpanProcessor, TimedEvent } from "@opentelemetry/sdk-trace"
import { classOf, type ContentClass, type ContentClassPolicy, stricter } from "./ContentClass.ts"

export const WorkspaceAttribute = "spectral.workspace.id"

const contentKeys: ReadonlySet<string> = new Set([
  "gen_ai.system_instructions",
  "gen_ai.input.messages",
  "gen_ai.output.messages",
  "gen_ai.prompt",
  "gen_ai.completion",
  "gen_ai.tool.call.arguments",
  "gen_ai.tool.call.result",
  "gen_ai.tool.definitions",
  "exception.message",
  "exception.stacktrace",
  "effect.cause",
  "ai.prompt",
  "ai.prompt.messages",
  "ai.response.text",
  "ai.response.object",
  "input.value",
  "output.value",
  "message"
])

const contentPrefixes: ReadonlyArray<string> = [
  "gen_ai.prompt.",
  "gen_ai.completion.",
  "spectral.content.",
  "llm.input_messages",
  "llm.output_messages"
]

/** Whether an attribute key may hold content (prompts, answers, stimulus or trace payloads). */
export const isContentKey = (key: string): boolean => {
  if (contentKeys.has(key)) return true
  for (const prefix of contentPrefixes) if (key.startsWith(prefix)) return true
  return false
}

const sizeOf = (value: AttributeValue | undefined): number =>
  typeof value === "string" ? value.length : Array.isArray(value) ? value.reduce<number>((n, v) => n + String(v ?? "").length, 0) : String(value ?? "").length

/** The attributes as the class allows them; the same object when nothing had to change. */
export const redactAttributes = (attributes: Attributes, contentClass: ContentClass): Attributes => {
  if (contentClass === "synthetic") return attributes
  let out: Attributes | undefined
  for (const key in attributes) {
    if (!isContentKey(key)) continue
    out ??= { ...attributes }
    if (contentClass === "platform") delete out[key]
    else out[key] = `[redacted: ${sizeOf(attributes[key])} chars]`
  }
  return out ?? attributes
}

const redactStatus = (status: SpanStatus, contentClass: ContentClass): SpanStatus =>
  status.message === undefined || status.message === "" || contentClass === "synthetic"
    ? status
    : contentClass === "platform"
    ? { code: status.code }
    : { code: status.code, message: `[redacted: ${status.message.length} chars]` }

/** Effect records each log line inside a span as an event named by the message. */
const isLogEvent = (event: TimedEvent): boolean => event.attributes?.["effect.logLevel"] !== undefined

const redactEvents = (events: ReadonlyArray<TimedEvent>, contentClass: ContentClass): Array<TimedEvent> | undefined => {
  let changed = false
  const out = events.map((event) => {
    const name = isLogEvent(event) ? (contentClass === "platform" ? "log" : `log [redacted: ${event.name.length} chars]`) : event.name
    const attributes = event.attributes === undefined ? undefined : redactAttributes(event.attributes, contentClass)
    if (name === event.name && attributes === event.attributes) return event
    changed = true
    return { ...event, name, ...(attributes === undefined ? {} : { attributes }) }
  })
  return changed ? out : undefined
}

/** The span as the class allows it to be exported: the span itself when nothing had to change. */
export const redactSpan = (span: ReadableSpan, contentClass: ContentClass): ReadableSpan => {
  if (contentClass === "synthetic") return span
  const attributes = redactAttributes(span.attributes, contentClass)
  const status = redactStatus(span.status, contentClass)
  const events = redactEvents(span.events, contentClass)
  if (attributes === span.attributes && status === span.status && events === undefined) return span
  const context = span.spanContext()
  return {
    name: span.name,
    kind: span.kind,
    spanContext: () => context,
    ...(span.parentSpanContext === undefined ? {} : { parentSpanContext: span.parentSpanContext }),
    startTime: span.startTime,
    endTime: span.endTime,
    status,
    attributes,
    links: span.links,
    events: events ?? span.events,
    duration: span.duration,
    ended: span.ended,
    resource: span.resource,
    instrumentationScope: span.instrumentationScope,
    droppedAttributesCount: span.droppedAttributesCount,
    droppedEventsCount: span.droppedEventsCount,
    droppedLinksCount: span.droppedLinksCount
  }
}

export class ContentClassSpanProcessor implements SpanProcessor {
  /** Trace id -> the class its workspace spans were exported under, until its root span ends. */
  private readonly traceClasses = new Map<string, ContentClass>()

  private readonly next: SpanProcessor
  private readonly policy: ContentClassPolicy

  constructor(next: SpanProcessor, policy: ContentClassPolicy) {
    this.next = next
    this.policy = policy
  }

  /** The class a span is exported under. */
  classOfSpan(span: ReadableSpan): ContentClass {
    const traceId = span.spanContext().traceId
    const workspaceId = span.attributes[WorkspaceAttribute]
    const known = this.traceClasses.get(traceId)
    if (typeof workspaceId === "string" && workspaceId !== "") {
      const own = classOf(this.policy, workspaceId)
      const merged = known === undefined ? own : stricter(known, own)
      if (merged !== known) this.traceClasses.set(traceId, merged)
      return merged
    }
    return known ?? this.policy.defaultClass
  }

  onStart(span: Span, parentContext: OtelContext): void {
    this.next.onStart(span, parentContext)
  }

  onEnd(span: ReadableSpan): void {
    const contentClass = this.classOfSpan(span)
    if (span.parentSpanContext === undefined) this.traceClasses.delete(span.spanContext().traceId)
    this.next.onEnd(redactSpan(span, contentClass))
  }

  forceFlush(): Promise<void> {
    return this.next.forceFlush()
  }

  shutdown(): Promise<void> {
    this.traceClasses.clear()
    return this.next.shutdown()
  }
}
