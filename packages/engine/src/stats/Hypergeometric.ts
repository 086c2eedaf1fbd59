/**
 * The hypergeometric upper tail: the one-sided p-value of Fisher's exact test on a 2×2 table
 * (how surprising k co-occurrences are, given both margins). Exact, summed in log space.
 */

const logFactorials: Array<number> = [0]

const logFactorial = (n: number): number => {
  for (let i = logFactorials.length; i <= n; i++) logFactorials.push(logFactorials[i - 1]! + Math.log(i))
  return logFactorials[n]!
}

const logChoose = (n: number, k: number) => logFactorial(n) - logFactorial(k) - logFactorial(n - k)

/**
 * P(X ≥ k) for X ~ Hypergeometric(population, successes, draws): of `population` items with
 * `successes` marked, `draws` taken without replacement, at least `k` marked.
 */
export const hypergeometricUpperTail = (k: number, population: number, successes: number, draws: number): number => {
  const low = Math.max(0, draws - (population - successes))
  const high = Math.min(successes, draws)
  if (k <= low) return 1
  if (k > high) return 0
  const denominator = logChoose(population, draws)
  let total = 0
  for (let x = k; x <= high; x++) total += Math.exp(logChoose(successes, x) + logChoose(population - successes, draws - x) - denominator)
  return Math.min(1, total)
}
