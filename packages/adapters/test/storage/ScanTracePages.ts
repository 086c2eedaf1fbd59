/**
 * The paged read of a scan's traces (`ScanTraceRepo.tracesPage`), written once and run against every
 * backend: pages of one arm come in the order `traces` lists them, each at most `limit` long, the
 * last one short; a page starts after any trace of the scan (of any arm); an unknown cursor is
 * NotFound, a limit that is not a positive integer Refused, and another workspace sees nothing.
 */
import { expect, layer } from "@effect/vitest"
import { ScanTraceRepo, type StorageError } from "@spectral/engine"
import type { ScanTrace } from "@spectral/engine/contracts"
import { Effect, type Layer } from "effect"
import type { Repositories } from "../../src/storage/index.ts"
import * as F from "./fixtures.ts"

const reasonOf = <A, R>(effect: Effect.Effect<A, StorageError, R>) => Effect.map(Effect.flip(effect), (error) => error.reason)

/** Every page of one arm, read one after the other as Diagnose does; the lengths of the pages beside them. */
const readAll = (repo: ScanTraceRepo["Service"], ws: string, scanId: string, arm: string, limit: number) =>
  Effect.gen(function*() {
    const read: Array<ScanTrace> = []
    const lengths: Array<number> = []
    let after: string | undefined = undefined
    while (true) {
      const page: ReadonlyArray<ScanTrace> = yield* repo.tracesPage(ws, scanId, { arm, after, limit })
      read.push(...page)
      lengths.push(page.length)
      if (page.length < limit) return { read, lengths }
      after = page[page.length - 1]!.id
    }
  })

/** A scan of two arms, interleaved as a scan writes them (ids not in sorted order), and a trace of another scan among them. */
const seed = (repo: ScanTraceRepo["Service"], ws: string) =>
  Effect.gen(function*() {
    const rows = Array.from({ length: 23 }, (_, i) => [
      { ...F.scanTrace(ws, "scan-paged", `t-${(i * 7) % 23}-baseline`), arm: "baseline" },
      { ...F.scanTrace(ws, "scan-paged", `t-${(i * 7) % 23}-candidate`), arm: "candidate-1" }
    ]).flat()
    yield* repo.insertTraces(ws, rows.slice(0, 20))
    yield* repo.insertTraces(ws, [F.scanTrace(ws, "scan-other", "t-other")])
    // A resumed phase writes some traces again: they keep their first place.
    yield* repo.insertTraces(ws, rows.slice(10))
    return yield* repo.traces(ws, "scan-paged")
  })

export const scanTracePages = <E>(backend: string, storage: Layer.Layer<Repositories, E>) =>
  layer(storage, { timeout: "120 seconds", excludeTestServices: true })(`scan trace pages: ${backend}`, (it) => {
    it.effect("pages of one arm, read one after the other, are that arm's traces in the order traces lists them", () =>
      Effect.gen(function*() {
        const repo = yield* ScanTraceRepo
        const ws = F.freshWorkspaceId()
        const all = yield* seed(repo, ws)
        expect(all.length).toBe(46)
        for (const arm of ["baseline", "candidate-1"]) {
          const expected = all.filter((t) => t.arm === arm)
          for (const limit of [1, 5, 23, 100]) {
            const { lengths, read } = yield* readAll(repo, ws, "scan-paged", arm, limit)
            expect(read).toEqual(expected)
            expect(lengths.every((n) => n <= limit)).toBe(true)
            expect(lengths.length).toBe(Math.floor(23 / limit) + 1)
          }
        }
        expect(yield* repo.tracesPage(ws, "scan-paged", { arm: "candidate-2", limit: 10 })).toEqual([])
      }))

    it.effect("a page starts after any trace of the scan, of whichever arm", () =>
      Effect.gen(function*() {
        const repo = yield* ScanTraceRepo
        const ws = F.freshWorkspaceId()
        const all = yield* seed(repo, ws)
        const cursor = all[9]!
        expect(cursor.arm).toBe("candidate-1")
        const page = yield* repo.tracesPage(ws, "scan-paged", { arm: "baseline", after: cursor.id, limit: 3 })
        expect(page).toEqual(all.slice(10).filter((t) => t.arm === "baseline").slice(0, 3))
        const last = all[all.length - 1]!
        expect(yield* repo.tracesPage(ws, "scan-paged", { arm: last.arm, after: last.id, limit: 3 })).toEqual([])
      }))

    it.effect("an unknown cursor is NotFound, a bad limit Refused, and another workspace sees no trace", () =>
      Effect.gen(function*() {
        const repo = yield* ScanTraceRepo
        const ws = F.freshWorkspaceId()
        yield* seed(repo, ws)
        expect(yield* reasonOf(repo.tracesPage(ws, "scan-paged", { arm: "baseline", after: "t-missing", limit: 5 })))
          .toMatchObject({ _tag: "NotFound", entity: "scan trace", id: "t-missing" })
        // The cursor must be a trace of this scan.
        expect(yield* reasonOf(repo.tracesPage(ws, "scan-paged", { arm: "baseline", after: "t-other", limit: 5 })))
          .toMatchObject({ _tag: "NotFound", id: "t-other" })
        for (const limit of [0, -1, 1.5, Number.NaN]) {
          const reason = yield* reasonOf(repo.tracesPage(ws, "scan-paged", { arm: "baseline", limit }))
          expect(reason._tag).toBe("Refused")
          expect(reason).toMatchObject({ message: `page limit must be a positive integer, got ${limit}` })
        }
        expect(yield* repo.tracesPage(F.freshWorkspaceId(), "scan-paged", { arm: "baseline", limit: 5 })).toEqual([])
      }))
  })
