/**
 * A tracer that records each span's name and trace id (a span without a parent starts a trace of
 * its own), for tests that check which trace a scan's spans land in.
 */
import { Option, Tracer } from "effect"

export const recordingTracer = () => {
  const spans: Array<{ readonly name: string; readonly traceId: string }> = []
  const tracer = Tracer.make({
    span(options) {
      const parent = Option.getOrUndefined(options.parent)
      const traceId = parent?.traceId ?? "root-" + String(spans.length)
      const spanId = `span-${spans.length}`
      spans.push({ name: options.name, traceId })
      return {
        _tag: "Span",
        name: options.name,
        spanId,
        traceId,
        parent: options.parent,
        annotations: options.annotations,
        status: { _tag: "Started", startTime: options.startTime },
        attributes: new Map(),
        links: options.links,
        sampled: options.sampled,
        kind: options.kind,
        end: () => {},
        attribute: () => {},
        event: () => {},
        addLinks: () => {}
      } satisfies Tracer.Span
    }
  })
  return { spans, tracer }
}
