/** The engine's own telemetry: OTLP export of its spans, bounded by each workspace's content class. */
export * as ContentClass from "./ContentClass.ts"
export * as ContentClassSpanProcessor from "./ContentClassSpanProcessor.ts"
export * as EngineTelemetry from "./EngineTelemetry.ts"
export * as OtelBridge from "./OtelBridge.ts"
export { MalformedContentClassSetting, UnknownContentClass } from "./ContentClass.ts"
