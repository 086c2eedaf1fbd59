import { assert, it } from "@effect/vitest"
import { Effect } from "effect"
import { engineName } from "../src/index.ts"

it.effect("engine loads", () => Effect.sync(() => assert.strictEqual(engineName, "spectral")))
