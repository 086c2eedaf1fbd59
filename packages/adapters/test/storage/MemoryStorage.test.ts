/** The repository contract on the engine's in-memory driver (the reference the SQL store must match). */
import { MemoryStorage } from "@spectral/engine"
import { repositoryContract } from "./RepositoryContract.ts"

repositoryContract("memory", MemoryStorage.layer)
