/**
 * The SQL store on embedded PGlite (a temporary folder): the repository contract, row-level
 * security applied through the app role, corrupt rows, persistence across reopenings.
 */
import { Storage } from "../../src/storage/index.ts"
import { repositoryContract } from "./RepositoryContract.ts"
import { mkdtempSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"

const dataDir = mkdtempSync(join(tmpdir(), "spectral-pglite-"))

repositoryContract("embedded PGlite", Storage.layerPglite({ dataDir }), { refusesForeignRows: true })
