/**
 * Adjusted Rand index (Hubert & Arabie 1985) between two labelings of the same items:
 * 1 for identical partitions (up to renaming), about 0 for chance agreement, negative below
 * chance. Used by tests and the benchmark to score clusterings against the true labels.
 */

const choose2 = (x: number): number => (x * (x - 1)) / 2

/** ARI of two equal-length label arrays (any integer labels). Identical trivial partitions give 1. */
export const adjustedRandIndex = (truth: ArrayLike<number>, predicted: ArrayLike<number>): number => {
  const n = truth.length
  if (n !== predicted.length) throw new RangeError(`adjustedRandIndex: ${n} vs ${predicted.length} labels`)
  const relabel = (labels: ArrayLike<number>): [Int32Array, number] => {
    const ids = new Map<number, number>()
    const out = new Int32Array(n)
    for (let i = 0; i < n; i++) {
      let id = ids.get(labels[i])
      if (id === undefined) {
        id = ids.size
        ids.set(labels[i], id)
      }
      out[i] = id
    }
    return [out, ids.size]
  }
  const [a, ka] = relabel(truth)
  const [b, kb] = relabel(predicted)
  const table = new Float64Array(ka * kb)
  const rowSums = new Float64Array(ka)
  const columnSums = new Float64Array(kb)
  for (let i = 0; i < n; i++) {
    table[a[i] * kb + b[i]]++
    rowSums[a[i]]++
    columnSums[b[i]]++
  }
  let index = 0
  for (let i = 0; i < table.length; i++) index += choose2(table[i])
  let rowPairs = 0
  for (let i = 0; i < ka; i++) rowPairs += choose2(rowSums[i])
  let columnPairs = 0
  for (let j = 0; j < kb; j++) columnPairs += choose2(columnSums[j])
  const totalPairs = choose2(n)
  const expected = totalPairs === 0 ? 0 : (rowPairs * columnPairs) / totalPairs
  const maximum = (rowPairs + columnPairs) / 2
  if (maximum === expected) return 1
  return (index - expected) / (maximum - expected)
}
