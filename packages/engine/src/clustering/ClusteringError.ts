/**
 * The one error the clustering module fails with. Like `effect/sql`'s `SqlError`, it carries a
 * `reason` union naming exactly what was wrong with the input; `message` is derived from it.
 */
import { Schema } from "effect"

/** No points, texts or failures were given. */
export class EmptyInput extends Schema.TaggedError<EmptyInput>()("EmptyInput", {
  what: Schema.String
}) {}

/** A coordinate (or score) is NaN or ±Infinity. */
export class NonFiniteValue extends Schema.TaggedError<NonFiniteValue>()("NonFiniteValue", {
  row: Schema.Int,
  column: Schema.Int,
  value: Schema.String
}) {}

/** Rows do not all have the same number of coordinates (or a row has none). */
export class RaggedDimensions extends Schema.TaggedError<RaggedDimensions>()("RaggedDimensions", {
  row: Schema.Int,
  expected: Schema.Int,
  actual: Schema.Int
}) {}

/**
 * Coordinates so large that squared distances (and the inertia, their sum) would overflow a
 * double; names the largest coordinate. k-means is not scale-free in floating point: rescale.
 */
export class CoordinateOverflow extends Schema.TaggedError<CoordinateOverflow>()("CoordinateOverflow", {
  row: Schema.Int,
  column: Schema.Int,
  value: Schema.String
}) {}

/** `k` (or the auto-k bounds) cannot be used with `n` points. */
export class InvalidK extends Schema.TaggedError<InvalidK>()("InvalidK", {
  k: Schema.Finite,
  n: Schema.Int,
  detail: Schema.String
}) {}

/** Any other invalid argument: a rubric score out of [0, 1], a bad evaluated count, a duplicate id. */
export class InvalidArgument extends Schema.TaggedError<InvalidArgument>()("InvalidArgument", {
  argument: Schema.String,
  detail: Schema.String
}) {}

export const ClusteringErrorReason = Schema.Union([EmptyInput, NonFiniteValue, RaggedDimensions, CoordinateOverflow, InvalidK, InvalidArgument])
export type ClusteringErrorReason = typeof ClusteringErrorReason.Type

const describe = (reason: ClusteringErrorReason): string => {
  switch (reason._tag) {
    case "EmptyInput":
      return `empty input: no ${reason.what}`
    case "NonFiniteValue":
      return `non-finite value ${reason.value} at row ${reason.row}, column ${reason.column}`
    case "RaggedDimensions":
      return `ragged dimensions: row ${reason.row} has ${reason.actual} coordinates, expected ${reason.expected}`
    case "CoordinateOverflow":
      return `coordinate ${reason.value} at row ${reason.row}, column ${reason.column} is too large: ` +
        `squared distances between the points would overflow a 64-bit float (rescale the points)`
    case "InvalidK":
      return `invalid k ${reason.k} for n = ${reason.n}: ${reason.detail}`
    case "InvalidArgument":
      return `invalid ${reason.argument}: ${reason.detail}`
  }
}

export class ClusteringError extends Schema.TaggedError<ClusteringError>()("ClusteringError", {
  reason: ClusteringErrorReason
}) {
  override get message(): string {
    return describe(this.reason)
  }
}

/** Shorthand used by the validators: a ClusteringError around `reason`. */
export const clusteringError = (reason: ClusteringErrorReason): ClusteringError => new ClusteringError({ reason })
