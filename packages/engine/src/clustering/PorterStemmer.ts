/**
 * The Porter (1980) suffix-stripping stemmer for English words, as published ("An algorithm for
 * suffix stripping", Program 14(3)), so that "timed", "timeout"'s "time", "deductions" and
 * "deducted" meet their siblings in the text embedding. Owns the algorithm only; lower-cased
 * ASCII words in, stems out (anything else, and words of one or two letters, is returned as is).
 */

const isConsonantAt = (word: string, i: number): boolean => {
  const c = word.charCodeAt(i)
  // a e i o u
  if (c === 97 || c === 101 || c === 105 || c === 111 || c === 117) return false
  if (c === 121) return i === 0 || !isConsonantAt(word, i - 1) // y
  return true
}

/** m in [C](VC)^m[V]: the number of vowel–consonant sequences in `stem`. */
const measure = (stem: string): number => {
  let m = 0
  let i = 0
  const n = stem.length
  while (i < n && isConsonantAt(stem, i)) i++
  while (i < n) {
    while (i < n && !isConsonantAt(stem, i)) i++
    if (i >= n) break
    while (i < n && isConsonantAt(stem, i)) i++
    m++
  }
  return m
}

const hasVowel = (stem: string): boolean => {
  for (let i = 0; i < stem.length; i++) if (!isConsonantAt(stem, i)) return true
  return false
}

const endsWithDoubleConsonant = (word: string): boolean =>
  word.length >= 2 && word[word.length - 1] === word[word.length - 2] && isConsonantAt(word, word.length - 1)

/** *o: the stem ends consonant–vowel–consonant, the last not w, x or y. */
const endsCvc = (word: string): boolean => {
  const n = word.length
  if (n < 3) return false
  if (!isConsonantAt(word, n - 1) || isConsonantAt(word, n - 2) || !isConsonantAt(word, n - 3)) return false
  const last = word[n - 1]
  return last !== "w" && last !== "x" && last !== "y"
}

/** Replace `suffix` by `replacement` when the stem before it has measure > `minMeasure`. */
const replaceRules = (word: string, rules: ReadonlyArray<readonly [string, string]>, minMeasure: number): string => {
  for (const [suffix, replacement] of rules) {
    if (!word.endsWith(suffix)) continue
    const stem = word.slice(0, word.length - suffix.length)
    return measure(stem) > minMeasure ? stem + replacement : word
  }
  return word
}

const step2Rules: ReadonlyArray<readonly [string, string]> = [
  ["ational", "ate"], ["tional", "tion"], ["enci", "ence"], ["anci", "ance"], ["izer", "ize"], ["abli", "able"],
  ["alli", "al"], ["entli", "ent"], ["eli", "e"], ["ousli", "ous"], ["ization", "ize"], ["ation", "ate"],
  ["ator", "ate"], ["alism", "al"], ["iveness", "ive"], ["fulness", "ful"], ["ousness", "ous"], ["aliti", "al"],
  ["iviti", "ive"], ["biliti", "ble"]
]
const step3Rules: ReadonlyArray<readonly [string, string]> = [
  ["icate", "ic"], ["ative", ""], ["alize", "al"], ["iciti", "ic"], ["ical", "ic"], ["ful", ""], ["ness", ""]
]
const step4Suffixes = [
  "al", "ance", "ence", "er", "ic", "able", "ible", "ant", "ement", "ment", "ent", "ion", "ou", "ism", "ate", "iti",
  "ous", "ive", "ize"
]

const longestFirst = <A extends readonly [string, string]>(rules: ReadonlyArray<A>): ReadonlyArray<A> =>
  [...rules].sort((a, b) => b[0].length - a[0].length)
const step2 = longestFirst(step2Rules)
const step3 = longestFirst(step3Rules)
const step4 = [...step4Suffixes].sort((a, b) => b.length - a.length)

/** The Porter stem of a lower-cased word. */
export const porterStem = (word: string): string => {
  if (word.length <= 2 || !/^[a-z]+$/u.test(word)) return word
  let w = word
  // Step 1a
  if (w.endsWith("sses")) w = w.slice(0, -2)
  else if (w.endsWith("ies")) w = w.slice(0, -2)
  else if (!w.endsWith("ss") && w.endsWith("s")) w = w.slice(0, -1)
  // Step 1b
  let cleanup = false
  if (w.endsWith("eed")) {
    if (measure(w.slice(0, -3)) > 0) w = w.slice(0, -1)
  } else if (w.endsWith("ed") && hasVowel(w.slice(0, -2))) {
    w = w.slice(0, -2)
    cleanup = true
  } else if (w.endsWith("ing") && hasVowel(w.slice(0, -3))) {
    w = w.slice(0, -3)
    cleanup = true
  }
  if (cleanup) {
    if (w.endsWith("at") || w.endsWith("bl") || w.endsWith("iz")) w += "e"
    else if (endsWithDoubleConsonant(w) && !/[lsz]$/u.test(w)) w = w.slice(0, -1)
    else if (measure(w) === 1 && endsCvc(w)) w += "e"
  }
  // Step 1c
  if (w.endsWith("y") && hasVowel(w.slice(0, -1))) w = w.slice(0, -1) + "i"
  // Steps 2 and 3
  w = replaceRules(w, step2, 0)
  w = replaceRules(w, step3, 0)
  // Step 4
  for (const suffix of step4) {
    if (!w.endsWith(suffix)) continue
    const stem = w.slice(0, w.length - suffix.length)
    if (measure(stem) > 1 && (suffix !== "ion" || /[st]$/u.test(stem))) w = stem
    break
  }
  // Step 5a
  if (w.endsWith("e")) {
    const stem = w.slice(0, -1)
    const m = measure(stem)
    if (m > 1 || (m === 1 && !endsCvc(stem))) w = stem
  }
  // Step 5b
  if (measure(w) > 1 && endsWithDoubleConsonant(w) && w.endsWith("l")) w = w.slice(0, -1)
  return w
}
