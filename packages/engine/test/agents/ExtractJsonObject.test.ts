/**
 * Reading an agent's or the judge's answer: the first JSON object in the model's text, whether the
 * text is that object alone (parsed at once) or has prose, code fences or a second object around it
 * (found by matching braces outside strings).
 */
import { assert, describe, it } from "@effect/vitest"
import { extractJsonObject } from "../../src/agents/ModelCaller.ts"

describe("extractJsonObject", () => {
  it("reads an answer that is one object, with or without whitespace after it", () => {
    assert.deepStrictEqual(extractJsonObject(`{"status": "single", "total": 12}`), { status: "single", total: 12 })
    assert.deepStrictEqual(extractJsonObject(`{"a": {"b": [1, {"c": 2}]}}\n  `), { a: { b: [1, { c: 2 }] } })
  })

  it("reads the first object out of prose, code fences and a second object", () => {
    assert.deepStrictEqual(extractJsonObject("Here is the answer:\n```json\n{\"ok\": true}\n```"), { ok: true })
    assert.deepStrictEqual(extractJsonObject(`Answer: {"x": 1}`), { x: 1 })
    assert.deepStrictEqual(extractJsonObject(`{"first": 1} and then {"second": 2}`), { first: 1 })
    assert.deepStrictEqual(extractJsonObject(`{"first": 1} trailing }`), { first: 1 })
    assert.deepStrictEqual(extractJsonObject(`[{"inArray": 1}]`), { inArray: 1 })
  })

  it("matches braces outside strings only, escapes included", () => {
    assert.deepStrictEqual(extractJsonObject(`{"note": "a } in text", "q": "say \\"{\\""} etc.`), { note: "a } in text", q: "say \"{\"" })
    assert.deepStrictEqual(extractJsonObject(`{"path": "C:\\\\"}`), { path: "C:\\" })
  })

  it("is undefined for no object, an unbalanced one, or one that is not JSON", () => {
    assert.isUndefined(extractJsonObject("no braces here"))
    assert.isUndefined(extractJsonObject(`{"open": 1`))
    assert.isUndefined(extractJsonObject("{not json}"))
    assert.isUndefined(extractJsonObject("{not json} {\"later\": 1}"))
  })
})
