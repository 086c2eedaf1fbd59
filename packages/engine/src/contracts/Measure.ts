/**
 * A number that may be absent, with the absence said out loud. CompositeScore and the
 * convergence event use it so a missing value is never a fake number (0, NaN, null).
 */
import { Schema } from "effect"

export const Present = Schema.TaggedStruct("Present", { value: Schema.Finite })
export const Absent = Schema.TaggedStruct("Absent", { reason: Schema.String })
export const Measure = Schema.Union([Present, Absent])
export type Measure = typeof Measure.Type

export const present = (value: number): Measure => ({ _tag: "Present", value })
export const absent = (reason: string): Measure => ({ _tag: "Absent", reason })
export const valueOf = (measure: Measure): number | undefined =>
  measure._tag === "Present" ? measure.value : undefined

/** A number constrained to [0, 1]. */
export const UnitInterval = Schema.Finite.check(Schema.isBetween({ minimum: 0, maximum: 1 }))
export const NonNegative = Schema.Finite.check(Schema.isGreaterThanOrEqualTo(0))
export const PositiveInt = Schema.Int.check(Schema.isGreaterThan(0))
export const NonNegativeInt = Schema.Int.check(Schema.isGreaterThanOrEqualTo(0))
/** ISO-8601 instant as text; the engine reads the time from `Clock` and stores it like this. */
export const Instant = Schema.String
