/**
 * `spectral db migrate`: apply the storage migrations to the configured store and print, as JSON,
 * what was applied. The store is `SPECTRAL_DATABASE_URL` (migrating through
 * `SPECTRAL_DATABASE_OWNER_URL` when set, since migrations must run as the schema's owner) or, with no
 * URL, the embedded PGlite store under `SPECTRAL_DATA_DIR` (default `.spectral/db`). The migrations
 * live in `@spectral/adapters`; this module only wires config to output.
 */
import { Storage } from "@spectral/adapters"
import { Effect } from "effect"
import { Command, Flag } from "effect/cli"
import { reportFailures } from "../CliFailure.ts"
import { writeJsonOutput } from "../CliIo.ts"

const migrate = Command.make(
  "migrate",
  {
    output: Flag.String("output").pipe(Flag.withDescription("Write the JSON result here instead of stdout"), Flag.optional)
  },
  Effect.fn("db.migrate")(function*({ output }) {
    const result = yield* Storage.migrateFromConfig
    yield* writeJsonOutput(output, {
      store: result.store,
      applied: result.applied,
      latestMigration: result.latest
    })
  }, reportFailures)
).pipe(
  Command.withDescription("Apply pending storage migrations (as the schema owner) and print what was applied"),
  Command.withExamples([
    { command: "spectral db migrate", description: "Migrate the embedded store under .spectral/db" },
    {
      command: "SPECTRAL_DATABASE_URL=postgres://spectral_owner@db/spectral spectral db migrate",
      description: "Migrate a PostgreSQL database as its owner"
    }
  ])
)

export const db = Command.make("db").pipe(
  Command.withDescription("The SQL store: migrations"),
  Command.withSubcommands([migrate])
)

