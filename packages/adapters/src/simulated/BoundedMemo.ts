/**
 * A bounded memo of a pure function of one string, for the simulated model's readings: a scan asks
 * the same questions of the same stimulus and the same system prompt many times (every agent, the
 * judge, every candidate of the tournament), and the answers never change. Holds at most
 * `capacity` entries and forgets the oldest first, so memory stays bounded however large the eval
 * set. The cached values are shared: callers must not mutate them.
 */
export const boundedMemo = <A>(capacity: number, compute: (key: string) => A): (key: string) => A => {
  const entries = new Map<string, A>()
  return (key) => {
    const hit = entries.get(key)
    if (hit !== undefined) return hit
    const value = compute(key)
    if (entries.size >= capacity) entries.delete(entries.keys().next().value!)
    entries.set(key, value)
    return value
  }
}
