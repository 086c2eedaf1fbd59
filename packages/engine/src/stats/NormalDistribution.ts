/**
 * The standard normal distribution function Φ and its inverse, to double precision, for the
 * BCa correction and calibration. Φ uses the all-positive series Φ(x) = ½ + φ(x)·Σ x^(2k+1)/(2k+1)!!
 * near the centre and Laplace's continued fraction in the tails; Φ⁻¹ is Acklam's rational
 * approximation refined by one Halley step against Φ.
 */

const SQRT_2PI = 2.5066282746310002
const INV_SQRT_2PI = 0.3989422804014327

/** The standard normal density φ(x). */
export const normalDensity = (x: number): number => INV_SQRT_2PI * Math.exp(-0.5 * x * x)

/** Upper tail Q(x) = 1 − Φ(x) for x ≥ 3 by Laplace's continued fraction (Lentz). */
const upperTail = (x: number): number => {
  // Q(x) = φ(x) / (x + 1/(x + 2/(x + 3/(x + …)))), evaluated bottom-up with enough terms.
  let fraction = x
  for (let k = 60; k >= 1; k--) fraction = x + k / fraction
  return normalDensity(x) / fraction
}

/** Φ(x), the standard normal distribution function; exact limits at ±∞. */
export const normalCdf = (x: number): number => {
  if (Number.isNaN(x)) return Number.NaN
  if (x >= 3) return x > 40 ? 1 : 1 - upperTail(x)
  if (x <= -3) return x < -40 ? 0 : upperTail(-x)
  let term = x
  let sum = x
  const square = x * x
  for (let k = 1; k < 200; k++) {
    term *= square / (2 * k + 1)
    sum += term
    if (Math.abs(term) < 1e-17 * Math.abs(sum)) break
  }
  return 0.5 + normalDensity(x) * sum
}

const A = [-3.969683028665376e+01, 2.209460984245205e+02, -2.759285104469687e+02, 1.383577518672690e+02, -3.066479806614716e+01, 2.506628277459239e+00]
const B = [-5.447609879822406e+01, 1.615858368580409e+02, -1.556989798598866e+02, 6.680131188771972e+01, -1.328068155288572e+01]
const C = [-7.784894002430293e-03, -3.223964580411365e-01, -2.400758277161838e+00, -2.549732539343734e+00, 4.374664141464968e+00, 2.938163982698783e+00]
const D = [7.784695709041462e-03, 3.224671290700398e-01, 2.445134137142996e+00, 3.754408661907416e+00]
const P_LOW = 0.02425

/** Φ⁻¹(p) for p in [0, 1]; ±∞ at 0 and 1. */
export const normalQuantile = (p: number): number => {
  if (Number.isNaN(p) || p < 0 || p > 1) return Number.NaN
  if (p === 0) return Number.NEGATIVE_INFINITY
  if (p === 1) return Number.POSITIVE_INFINITY
  let x: number
  if (p < P_LOW) {
    const q = Math.sqrt(-2 * Math.log(p))
    x = (((((C[0] * q + C[1]) * q + C[2]) * q + C[3]) * q + C[4]) * q + C[5]) /
      ((((D[0] * q + D[1]) * q + D[2]) * q + D[3]) * q + 1)
  } else if (p <= 1 - P_LOW) {
    const q = p - 0.5
    const r = q * q
    x = (((((A[0] * r + A[1]) * r + A[2]) * r + A[3]) * r + A[4]) * r + A[5]) * q /
      (((((B[0] * r + B[1]) * r + B[2]) * r + B[3]) * r + B[4]) * r + 1)
  } else {
    const q = Math.sqrt(-2 * Math.log(1 - p))
    x = -(((((C[0] * q + C[1]) * q + C[2]) * q + C[3]) * q + C[4]) * q + C[5]) /
      ((((D[0] * q + D[1]) * q + D[2]) * q + D[3]) * q + 1)
  }
  // One Halley step against Φ; in the upper tail work with Q to keep relative precision.
  const error = x > 0 ? (p - 1) + (x >= 3 ? upperTail(x) : 1 - normalCdf(x)) : normalCdf(x) - p
  const adjusted = x > 0 ? -error : error
  const u = adjusted * SQRT_2PI * Math.exp(0.5 * x * x)
  return x - u / (1 + 0.5 * x * u)
}
