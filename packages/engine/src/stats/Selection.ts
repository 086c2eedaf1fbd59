/**
 * Order statistics by selection (Floyd–Rivest), not by sorting: the bootstrap only needs two
 * quantiles of its distribution. `linearQuantiles` matches `numpy.quantile`/`scipy.stats.quantile`
 * with the default "linear" rule (Hyndman–Fan type 7). Works in place: the array is permuted.
 */

const swap = (values: Float64Array, i: number, j: number): void => {
  const held = values[i]
  values[i] = values[j]
  values[j] = held
}

/** Rearrange `values[left..right]` so that `values[k]` is the element of rank k within it. */
export const selectInPlace = (values: Float64Array, k: number, left = 0, right = values.length - 1): void => {
  while (right > left) {
    if (right - left > 600) {
      const n = right - left + 1
      const i = k - left + 1
      const z = Math.log(n)
      const s = 0.5 * Math.exp((2 * z) / 3)
      const sd = 0.5 * Math.sqrt((z * s * (n - s)) / n) * (i - n / 2 < 0 ? -1 : 1)
      const newLeft = Math.max(left, Math.floor(k - (i * s) / n + sd))
      const newRight = Math.min(right, Math.floor(k + ((n - i) * s) / n + sd))
      selectInPlace(values, k, newLeft, newRight)
    }
    const pivot = values[k]
    let i = left
    let j = right
    swap(values, left, k)
    if (values[right] > pivot) swap(values, left, right)
    while (i < j) {
      swap(values, i, j)
      i++
      j--
      while (values[i] < pivot) i++
      while (values[j] > pivot) j--
    }
    if (values[left] === pivot) swap(values, left, j)
    else {
      j++
      swap(values, j, right)
    }
    if (j <= k) left = j + 1
    if (k <= j) right = j - 1
  }
}

const minimumFrom = (values: Float64Array, from: number): number => {
  let smallest = values[from]
  for (let i = from + 1; i < values.length; i++) if (values[i] < smallest) smallest = values[i]
  return smallest
}

/**
 * The type-7 quantiles of `values` at probabilities `low ≤ high` (each in [0, 1]), in O(B):
 * two selections plus a scan for each upper neighbour. Permutes `values`.
 */
export const linearQuantiles = (values: Float64Array, low: number, high: number): readonly [number, number] => {
  const last = values.length - 1
  const positionLow = last * low
  const positionHigh = last * high
  const rankLow = Math.min(Math.floor(positionLow), last)
  const rankHigh = Math.min(Math.floor(positionHigh), last)
  selectInPlace(values, rankLow, 0, last)
  const lowValue = values[rankLow]
  const lowNext = rankLow < last ? minimumFrom(values, rankLow + 1) : lowValue
  let highValue = lowValue
  let highNext = lowNext
  if (rankHigh > rankLow) {
    selectInPlace(values, rankHigh, rankLow + 1, last)
    highValue = values[rankHigh]
    highNext = rankHigh < last ? minimumFrom(values, rankHigh + 1) : highValue
  }
  const interpolate = (value: number, next: number, position: number, rank: number): number => {
    const fraction = position - rank
    return fraction === 0 || next === value ? value : value + fraction * (next - value)
  }
  return [interpolate(lowValue, lowNext, positionLow, rankLow), interpolate(highValue, highNext, positionHigh, rankHigh)]
}
