/**
 * The seeded generator for eval-set generation: the engine's mulberry32 (`@spectral/engine/random`),
 * seeded so that the same seed always yields the same eval set.
 */
import { type SeededGenerator, seededGenerator } from "@spectral/engine/random"

export type SeededRandom = SeededGenerator

export const seededRandom = (seed: number): SeededRandom => seededGenerator((Math.trunc(seed) ^ 0x9e3779b9) >>> 0)
