/** A seeded order of items (FNV-1a keyed shuffle): the plugins' searches repeat exactly for a scan seed. */
import { hashString } from "@spectral/engine"

export const seededOrder = <A extends { readonly stimulusId?: string; readonly id?: string }>(items: ReadonlyArray<A>, salt: string): ReadonlyArray<A> =>
  items.map((item, i) => ({ item, key: hashString(`${salt}:${item.stimulusId ?? item.id ?? i}:${i}`) })).sort((a, b) => a.key - b.key).map((x) => x.item)
