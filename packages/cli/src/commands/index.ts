/** Every `spectral` subcommand, in the order `--help` lists them. Add a command by adding its module here. */
import { bootstrap } from "./bootstrap.ts"
import { cluster } from "./cluster.ts"
import { worldCommand } from "./world.ts"
export const commands = [bootstrap, cluster, worldCommand] as const
