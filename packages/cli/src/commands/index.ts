/** Every `spectral` subcommand, in the order `--help` lists them. Add a command by adding its module here. */
import { bootstrap } from "./bootstrap.ts"
import { cluster } from "./cluster.ts"
import { db } from "./db.ts"
import { worldCommand } from "./world.ts"
import { scan } from "./scan.ts"
import { ingest } from "./ingest.ts"
import { verdict } from "./verdict.ts"
import { serve } from "./serve.ts"
import { card } from "./card.ts"
import { secrets } from "./secrets.ts"
import { runner } from "./runner.ts"
import { scans } from "./scans.ts"
export const commands = [scan, scans, runner, bootstrap, cluster, worldCommand, db, ingest, verdict, serve, card, secrets] as const
