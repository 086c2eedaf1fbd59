/**
 * Effect's tracer on an OpenTelemetry `Tracer` (`@opentelemetry/api`): every Effect span
 * (`Effect.fn`, `Effect.withSpan`) becomes an OpenTelemetry span with the same parent, kind, links,
 * attributes and events, ended with Effect's exit (an error status and an `exception` event per
 * failure; interruption as `effect.fiber.interrupted`). The same mapping as `@effect/opentelemetry`'s
 * `OtelTracer`, which cannot be installed beside the OpenTelemetry JS SDK 3 this repository uses
 * (its 4.1 release declares the SDK 2 packages as peers). Owns the mapping only: the provider,
 * processors and exporter are `EngineTelemetry`'s.
 */
import * as Otel from "@opentelemetry/api"
import { Cause, Context, type Exit, Inspectable, Option, Tracer } from "effect"

const kindMap: Record<Tracer.SpanKind, Otel.SpanKind> = {
  internal: Otel.SpanKind.INTERNAL,
  client: Otel.SpanKind.CLIENT,
  server: Otel.SpanKind.SERVER,
  producer: Otel.SpanKind.PRODUCER,
  consumer: Otel.SpanKind.CONSUMER
}

const nanosPerSecond = BigInt(1_000_000_000)
const hrTimeOf = (nanos: bigint): Otel.HrTime => [Number(nanos / nanosPerSecond), Number(nanos % nanosPerSecond)]

const isPrimitive = (value: unknown): value is string | number | boolean =>
  typeof value === "string" || typeof value === "number" || typeof value === "boolean"

/** An attribute value OpenTelemetry accepts: primitives and arrays of one primitive type as they are, the rest as text. */
export const attributeValueOf = (value: unknown): Otel.AttributeValue => {
  if (isPrimitive(value)) return value
  if (typeof value === "bigint") return value.toString()
  if (Array.isArray(value) && value.length > 0 && value.every((item) => isPrimitive(item) && typeof item === typeof value[0])) {
    return value.slice() as Otel.AttributeValue
  }
  return Inspectable.toStringUnknown(value)
}

const attributesOf = (record: Readonly<Record<string, unknown>>): Otel.Attributes => {
  const out: Otel.Attributes = {}
  for (const key in record) out[key] = attributeValueOf(record[key])
  return out
}

const spanContextOf = (span: Tracer.AnySpan): Otel.SpanContext => ({
  traceId: span.traceId,
  spanId: span.spanId,
  traceFlags: span.sampled ? Otel.TraceFlags.SAMPLED : Otel.TraceFlags.NONE,
  isRemote: span._tag === "ExternalSpan"
})

const linksOf = (links: ReadonlyArray<Tracer.SpanLink>): Array<Otel.Link> =>
  links.map((link) => ({ context: spanContextOf(link.span), attributes: attributesOf(link.attributes) }))

class BridgedSpan implements Tracer.Span {
  readonly _tag = "Span"
  readonly name: string
  readonly spanId: string
  readonly traceId: string
  readonly parent: Option.Option<Tracer.AnySpan>
  readonly annotations: Context.Context<never>
  readonly links: Array<Tracer.SpanLink>
  readonly sampled: boolean
  readonly kind: Tracer.SpanKind
  readonly attributes = new Map<string, unknown>()
  status: Tracer.SpanStatus
  readonly span: Otel.Span

  constructor(tracer: Otel.Tracer, options: Parameters<Tracer.Tracer["span"]>[0]) {
    this.name = options.name
    this.annotations = options.annotations
    this.links = options.links
    this.kind = options.kind
    this.parent = options.root ? Option.none() : options.parent
    const parentContext = Option.isSome(this.parent)
      ? Otel.trace.setSpanContext(Otel.ROOT_CONTEXT, spanContextOf(this.parent.value))
      : Otel.ROOT_CONTEXT
    this.span = tracer.startSpan(
      options.name,
      {
        startTime: hrTimeOf(options.startTime),
        kind: kindMap[options.kind],
        ...(options.links.length > 0 ? { links: linksOf(options.links) } : {})
      },
      parentContext
    )
    const context = this.span.spanContext()
    this.spanId = context.spanId
    this.traceId = context.traceId
    this.sampled = (context.traceFlags & Otel.TraceFlags.SAMPLED) === Otel.TraceFlags.SAMPLED
    this.status = { _tag: "Started", startTime: options.startTime }
  }

  attribute(key: string, value: unknown): void {
    if (this.status._tag === "Ended") return
    this.span.setAttribute(key, attributeValueOf(value))
    this.attributes.set(key, value)
  }

  event(name: string, startTime: bigint, attributes?: Record<string, unknown>): void {
    if (this.status._tag === "Ended") return
    this.span.addEvent(name, attributes === undefined ? undefined : attributesOf(attributes), hrTimeOf(startTime))
  }

  addLinks(links: ReadonlyArray<Tracer.SpanLink>): void {
    if (this.status._tag === "Ended") return
    this.links.push(...links)
    this.span.addLinks(linksOf(links))
  }

  end(endTime: bigint, exit: Exit.Exit<unknown, unknown>): void {
    if (this.status._tag === "Ended") return
    const at = hrTimeOf(endTime)
    this.status = { _tag: "Ended", startTime: this.status.startTime, endTime, exit }
    if (exit._tag === "Success") {
      this.span.setStatus({ code: Otel.SpanStatusCode.OK })
    } else if (Cause.hasInterruptsOnly(exit.cause)) {
      this.span.setAttribute("effect.fiber.interrupted", true)
    } else {
      const errors = Cause.prettyErrors(exit.cause)
      for (const error of errors) this.span.recordException(error, at)
      this.span.setStatus(errors.length > 0 ? { code: Otel.SpanStatusCode.ERROR, message: errors[0]!.message } : { code: Otel.SpanStatusCode.OK })
    }
    this.span.end(at)
  }
}

/** Effect's tracer creating its spans on `tracer`. */
export const make = (tracer: Otel.Tracer): Tracer.Tracer =>
  Tracer.make({ span: (options) => new BridgedSpan(tracer, options) })
