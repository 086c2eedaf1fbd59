/** A seeded order of items (FNV-1a keyed shuffle): the plugins' searches repeat exactly for a scan seed. */
const hash = (text: string): number => {
  let h = 0x811c9dc5
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i)
    h = Math.imul(h, 0x01000193)
  }
  return h >>> 0
}

export const seededOrder = <A extends { readonly stimulusId?: string; readonly id?: string }>(items: ReadonlyArray<A>, salt: string): ReadonlyArray<A> =>
  items.map((item, i) => ({ item, key: hash(`${salt}:${item.stimulusId ?? item.id ?? i}:${i}`) })).sort((a, b) => a.key - b.key).map((x) => x.item)
