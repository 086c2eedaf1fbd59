/**
 * Moves of several change sets are one unit: accept and rollback move their target first (a
 * compare-and-set on the status it was read with) and the others after, inside UnitOfWork, so a
 * concurrent change to the target never leaves the workspace without an accepted change set.
 */
import { assert, describe, it } from "@effect/vitest"
import { Effect, Layer } from "effect"
import type { ChangeSet, ChangeSetStatus } from "../../src/contracts/index.ts"
import { ChangeSets } from "../../src/changesets/ChangeSetLifecycle.ts"
import * as MemoryStorage from "../../src/ports/MemoryStorage.ts"
import { ChangeSetRepo } from "../../src/ports/Repositories.ts"
import { layerUnitOfWork } from "../../src/ports/UnitOfWork.ts"

const changeSet = (version: number, status: ChangeSetStatus): ChangeSet => ({
  id: `ws:cs:${version}`,
  workspaceId: "ws",
  version,
  baselineId: null,
  framework: { id: "f", version: 1 },
  sampleSet: { id: "e", version: 1 },
  agents: [],
  explainability: { summary: "", reasoning: [], decisionLog: [], clusterOutcomes: [] },
  status,
  scanId: `ws:scan:${version}`,
  authority: null,
  createdAt: "2026-01-01T00:00:00.000Z",
  updatedAt: "2026-01-01T00:00:00.000Z"
})

type Repo = typeof ChangeSetRepo.Service

/** The memory store's change-set repository with `update` going through `hook` (to stage a race). */
const withUpdateHook = (hook: (inner: Repo, next: ChangeSet, expected: ChangeSetStatus) => ReturnType<Repo["update"]>) =>
  Layer.effect(ChangeSetRepo, Effect.map(Effect.service(ChangeSetRepo), (inner) => ChangeSetRepo.of({ ...inner, update: (next, expected) => hook(inner, next, expected) })))

const layerWith = (hook: Parameters<typeof withUpdateHook>[0], unitOfWork = layerUnitOfWork({ transactional: (_ws, effect) => effect })) =>
  ChangeSets.layer.pipe(Layer.provide([withUpdateHook(hook), unitOfWork]), Layer.provideMerge(MemoryStorage.layer))

const statusOf = (id: string) => Effect.map(Effect.flatMap(Effect.service(ChangeSetRepo), (repo) => repo.get("ws", id)), (c) => c.status)

describe("atomic accept and rollback", () => {
  it.effect("a reject that wins the race against accept leaves the current accepted change set in place", () => {
    const current = changeSet(1, "accepted")
    const target = changeSet(2, "proposed")
    // Between accept reading the target and writing it, a person rejects it.
    const hook = (inner: Repo, next: ChangeSet, expected: ChangeSetStatus) =>
      next.id === target.id && next.status === "accepted"
        ? Effect.andThen(inner.update({ ...target, status: "rejected" }, "proposed"), inner.update(next, expected))
        : inner.update(next, expected)
    return Effect.gen(function*() {
      const repo = yield* ChangeSetRepo
      yield* repo.insert(current)
      yield* repo.insert(target)
      const error = yield* Effect.flip((yield* ChangeSets).accept("ws", target.id, "alice", "approved"))
      assert.strictEqual(error._tag, "StorageError")
      assert.strictEqual(yield* statusOf(current.id), "accepted", "the workspace keeps its accepted change set")
      assert.strictEqual(yield* statusOf(target.id), "rejected")
      assert.isFalse((yield* repo.audit("ws", current.id)).some((e) => e.to === "superseded"))
    }).pipe(Effect.provide(layerWith(hook)))
  })

  it.effect("accept writes the target and supersedes the others inside one unit of work, target first", () => {
    let depth = 0
    const writes: Array<string> = []
    const spy = layerUnitOfWork({
      transactional: (_ws, effect) => Effect.suspend(() => {
        depth++
        return effect.pipe(Effect.ensuring(Effect.sync(() => depth--)))
      })
    })
    const hook = (inner: Repo, next: ChangeSet, expected: ChangeSetStatus) =>
      Effect.suspend(() => {
        writes.push(`${next.id}→${next.status}${depth > 0 ? "" : " (outside the unit of work)"}`)
        return inner.update(next, expected)
      })
    return Effect.gen(function*() {
      const repo = yield* ChangeSetRepo
      yield* repo.insert(changeSet(1, "accepted"))
      yield* repo.insert(changeSet(2, "proposed"))
      yield* (yield* ChangeSets).accept("ws", "ws:cs:2", "alice", "approved")
      assert.deepStrictEqual(writes, ["ws:cs:2→accepted", "ws:cs:1→superseded"])
    }).pipe(Effect.provide(layerWith(hook, spy)))
  })

  it.effect("a rollback whose restore fails rejects nothing: the accepted change set stays", () => {
    const previous = changeSet(1, "superseded")
    const accepted = changeSet(2, "accepted")
    // Something else moved the previous change set between the read and the write.
    const hook = (inner: Repo, next: ChangeSet, expected: ChangeSetStatus) =>
      next.id === previous.id ? Effect.andThen(inner.update({ ...previous, status: "accepted" }, "superseded"), inner.update(next, expected)) : inner.update(next, expected)
    return Effect.gen(function*() {
      const repo = yield* ChangeSetRepo
      yield* repo.insert(previous)
      yield* repo.insert(accepted)
      yield* Effect.flip((yield* ChangeSets).rollback("ws", accepted.id, previous.id, "spectral/autonomy", "anomaly"))
      assert.strictEqual(yield* statusOf(accepted.id), "accepted")
    }).pipe(Effect.provide(layerWith(hook)))
  })

  it.effect("a rollback restores the previous change set, then rejects the accepted one, saying why in both", () =>
    Effect.gen(function*() {
      const repo = yield* ChangeSetRepo
      yield* repo.insert(changeSet(1, "superseded"))
      yield* repo.insert(changeSet(2, "accepted"))
      const { rejected, restored } = yield* (yield* ChangeSets).rollback("ws", "ws:cs:2", "ws:cs:1", "spectral/autonomy", "anomaly: score fell")
      assert.deepStrictEqual([rejected.status, restored?.status], ["rejected", "accepted"])
      assert.deepStrictEqual((yield* repo.audit("ws", "ws:cs:2")).map((e) => e.detail), ["rolled back: anomaly: score fell"])
      assert.deepStrictEqual((yield* repo.audit("ws", "ws:cs:1")).map((e) => e.detail), ["restored by rollback of v2: anomaly: score fell"])
    }).pipe(Effect.provide(layerWith((inner, next, expected) => inner.update(next, expected)))))
})
