/**
 * The model labeller in a scan: `diagnosis.labeller: "model"` in the workspace makes Diagnose ask
 * the scan's language model for each cluster's label (charged to the scan's ledger under `label`),
 * and the stored clusters say where their label came from; without the setting no label call is made.
 */
import { assert, describe, it } from "@effect/vitest"
import { Effect, Layer } from "effect"
import type { Workspace } from "../../src/contracts/index.ts"
import { LABEL_MARKER } from "../../src/clustering/ModelLabeller.ts"
import * as ScanEngine from "../../src/pipeline/ScanEngine.ts"
import { ScanOrchestrator } from "../../src/pipeline/ScanOrchestrator.ts"
import { EventBus } from "../../src/ports/EventBus.ts"
import * as MemoryStorage from "../../src/ports/MemoryStorage.ts"
import { FailureClusterRepo, WorkspaceRepo } from "../../src/ports/Repositories.ts"
import { toyAnswer, toyProvider, toyWorkspace } from "../optimize/ToyTeam.ts"
import { scriptedModel } from "../clustering/ScriptedLabelModel.ts"

/** The toy team's model, with `label` answering the labeller's prompts. */
const modelWith = (label: (user: string) => string) =>
  scriptedModel((user, system, parameters) => (system.startsWith(LABEL_MARKER) ? label(user) : toyAnswer(system, user, parameters.temperature, "calculator")))

const scan = (workspace: Workspace, model: ReturnType<typeof scriptedModel>) =>
  Effect.gen(function*() {
    yield* (yield* WorkspaceRepo).upsert(workspace)
    const outcome = yield* (yield* ScanOrchestrator).run({ workspaceId: workspace.id, seed: 5, concurrency: 4 })
    const clusters = yield* (yield* FailureClusterRepo).list(workspace.id, outcome.scan.id)
    return { outcome, clusters }
  }).pipe(Effect.provide(ScanEngine.layer().pipe(Layer.provideMerge(Layer.mergeAll(MemoryStorage.layer, EventBus.layerMemory, toyProvider(40), model.layer)))))

const labelPrompts = (model: ReturnType<typeof scriptedModel>) => model.prompts().filter((p) => p.system.startsWith(LABEL_MARKER))

describe("Diagnose with the model labeller", () => {
  it.effect("a workspace asking for model labels gets the model's label in the stored cluster, the offline one beside it", () =>
    Effect.gen(function*() {
      const model = modelWith(() => "Totals wrong: price not multiplied by units")
      const workspace = { ...toyWorkspace({ broken: "calculator" }), diagnosis: { labeller: "model" as const } }
      const { clusters, outcome } = yield* scan(workspace, model)
      assert.isAbove(clusters.length, 0)
      const [headline] = clusters
      assert.strictEqual(headline!.labelSource, "model")
      assert.strictEqual(headline!.label, "Totals wrong: price not multiplied by units")
      assert.isAbove(headline!.offlineLabel?.length ?? 0, 0)
      assert.notStrictEqual(headline!.offlineLabel, headline!.label)
      // One call per cluster, at temperature 0 with the scan's seed, on the scan's ledger.
      assert.strictEqual(labelPrompts(model).length, clusters.length)
      const labelCalls = model.parameters().filter((_, i) => model.prompts()[i]!.system.startsWith(LABEL_MARKER))
      assert.isTrue(labelCalls.every((p) => p.temperature === 0 && p.seed === 5))
      assert.strictEqual(outcome.spend.byPurpose["label"]?.calls, clusters.length)
    }))

  it.effect("a model answering garbage leaves the offline label, with the rejection stored", () =>
    Effect.gen(function*() {
      const model = modelWith(() => "{}")
      const workspace = { ...toyWorkspace({ broken: "calculator" }), diagnosis: { labeller: "model" as const } }
      const { clusters } = yield* scan(workspace, model)
      assert.isAbove(clusters.length, 0)
      assert.isTrue(clusters.every((c) => c.labelSource === "offline" && c.offlineLabel === undefined))
      assert.strictEqual(clusters[0]!.labelRejection?.reason, "not_a_phrase")
      assert.strictEqual(labelPrompts(model).length, clusters.length)
    }))

  it.effect("the workspace's maxLabelCalls caps the label calls (0: none, call_cap recorded)", () =>
    Effect.gen(function*() {
      const model = modelWith(() => "Totals wrong: price not multiplied by units")
      const workspace = { ...toyWorkspace({ broken: "calculator" }), diagnosis: { labeller: "model" as const, maxLabelCalls: 0 } }
      const { clusters } = yield* scan(workspace, model)
      assert.isAbove(clusters.length, 0)
      assert.isTrue(clusters.every((c) => c.labelSource === "offline" && c.labelRejection?.reason === "call_cap"))
      assert.strictEqual(labelPrompts(model).length, 0)
    }))

  it.effect("without the setting the labels are offline and no label call is made", () =>
    Effect.gen(function*() {
      const model = modelWith(() => "Totals wrong: price not multiplied by units")
      const { clusters, outcome } = yield* scan(toyWorkspace({ broken: "calculator" }), model)
      assert.isAbove(clusters.length, 0)
      assert.isTrue(clusters.every((c) => c.labelSource === "offline" && c.labelRejection === undefined))
      assert.strictEqual(labelPrompts(model).length, 0)
      assert.isUndefined(outcome.spend.byPurpose["label"])
    }))
})
