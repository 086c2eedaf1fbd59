/** Every `spectral` subcommand, in the order `--help` lists them. Add a command by adding its module here. */
export const commands = [] as const
