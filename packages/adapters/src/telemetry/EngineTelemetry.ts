/**
 * The engine's own telemetry: its spans (a trace per scan, a span per phase, a `chat` span per
 * model call with the GenAI attributes) exported over OTLP/HTTP through the OpenTelemetry SDK,
 * bridged by `OtelBridge` (Effect's tracer on the SDK's). Every span passes `ContentClassSpanProcessor`
 * before the batch exporter, so the exported spans carry only what each workspace's content class
 * allows; `SpanContent` tells the engine which workspaces' calls may carry content at all
 * (`synthetic` ones). `layerConfig` is on only when `OTEL_EXPORTER_OTLP_ENDPOINT` is set.
 * Owns the exporter pipeline; not the receiver (`OtlpReceiver`) nor what the engine records.
 */
import { OTLPTraceExporter } from "@opentelemetry/exporter-trace-otlp-http"
import { resourceFromAttributes } from "@opentelemetry/resources"
import { BatchSpanProcessor, SimpleSpanProcessor, type SpanExporter, TracerProvider } from "@opentelemetry/sdk-trace"
import { Config, Effect, Layer, Option, Tracer } from "effect"
import { SpanContent } from "@spectral/engine"
import { classOf, type ContentClassPolicy, type MalformedContentClassSetting, policyConfig, type UnknownContentClass } from "./ContentClass.ts"
import { ContentClassSpanProcessor } from "./ContentClassSpanProcessor.ts"
import * as OtelBridge from "./OtelBridge.ts"

export interface EngineTelemetryOptions {
  /** Where the spans go: an OTLP/HTTP endpoint's base URL (`/v1/traces` is appended) or an exporter. */
  readonly endpoint: string | SpanExporter
  /** Request headers, e.g. `{ authorization: "Bearer KEY" }` for the engine's own receiver. */
  readonly headers?: Readonly<Record<string, string>> | undefined
  readonly serviceName?: string | undefined
  readonly contentClasses: ContentClassPolicy
  /** Export each span as it ends instead of in batches (tests, short-lived processes). */
  readonly exportEachSpan?: boolean | undefined
}

/** The OTLP/HTTP traces URL for a base endpoint (the OTLP exporter specification's rule). */
export const tracesUrl = (endpoint: string): string => `${endpoint.replace(/\/+$/, "")}/v1/traces`

/** `SpanContent` from a policy: a model call may carry its content only for a `synthetic` workspace. */
export const spanContentOf = (policy: ContentClassPolicy): SpanContent => ({
  attach: (workspaceId) => classOf(policy, workspaceId) === "synthetic"
})

const tracerProvider = (options: EngineTelemetryOptions) =>
  Effect.acquireRelease(
    Effect.sync(() => {
      const exporter = typeof options.endpoint === "string"
        ? new OTLPTraceExporter({ url: tracesUrl(options.endpoint), headers: { ...options.headers } })
        : options.endpoint
      const exporting = options.exportEachSpan === true ? new SimpleSpanProcessor({ exporter }) : new BatchSpanProcessor({ exporter })
      return new TracerProvider({
        resource: resourceFromAttributes({ "service.name": options.serviceName ?? "spectral" }),
        spanProcessors: [new ContentClassSpanProcessor(exporting, options.contentClasses)]
      })
    }),
    (provider) =>
      Effect.promise(() => provider.forceFlush().finally(() => provider.shutdown())).pipe(
        Effect.ignore,
        Effect.timeoutOption("5 seconds")
      )
  )

/**
 * The engine's tracer exporting to `options.endpoint`, and `SpanContent` from the policy. Spans
 * still buffered are flushed when the layer is released.
 */
export const layer = (options: EngineTelemetryOptions): Layer.Layer<never> =>
  Layer.mergeAll(
    Layer.effect(Tracer.Tracer, Effect.map(tracerProvider(options), (provider) => OtelBridge.make(provider.getTracer("@spectral/engine")))),
    Layer.succeed(SpanContent, spanContentOf(options.contentClasses))
  )

/**
 * From the environment: off (no layer) unless `OTEL_EXPORTER_OTLP_ENDPOINT` is set; then
 * `OTEL_EXPORTER_OTLP_HEADERS` (`key=value,...`, values URL-encoded), `OTEL_SERVICE_NAME`
 * (default `spectral`) and the content classes (`ContentClass.policyConfig`).
 */
export const layerConfig: Layer.Layer<never, UnknownContentClass | MalformedContentClassSetting | Config.ConfigError> = Layer.unwrap(Effect.gen(function*() {
  const endpoint = yield* Config.option(Config.String("OTEL_EXPORTER_OTLP_ENDPOINT"))
  // The classes are checked even with export off, so a bad setting is found before it matters.
  const contentClasses = yield* policyConfig
  if (Option.isNone(endpoint) || endpoint.value.trim() === "") return Layer.empty
  const headers = yield* Config.String("OTEL_EXPORTER_OTLP_HEADERS").pipe(Config.withDefault(""))
  const serviceName = yield* Config.String("OTEL_SERVICE_NAME").pipe(Config.withDefault("spectral"))
  return layer({ endpoint: endpoint.value.trim(), headers: parseHeaders(headers), serviceName, contentClasses })
}))

/** `OTEL_EXPORTER_OTLP_HEADERS`: `key=value` pairs separated by commas, values URL-encoded. */
export const parseHeaders = (text: string): Record<string, string> => {
  const out: Record<string, string> = {}
  for (const raw of text.split(",")) {
    const at = raw.indexOf("=")
    if (at <= 0) continue
    const key = raw.slice(0, at).trim()
    if (key === "") continue
    out[key] = raw.slice(at + 1).trim().replace(/%([0-9A-Fa-f]{2})/g, (_, hex: string) => String.fromCharCode(Number.parseInt(hex, 16)))
  }
  return out
}
