/**
 * Plugins from modules a user names (`--plugin MODULE`, repeatable; `SPECTRAL_PLUGINS` for the main
 * job): a path (`./gates/latency.js`) or a package (`@spectral/plugins`) whose default export or
 * `plugin` export is a `PluginDefinition` (`{ name, gates?, strategies?, scorers? }`, what
 * `Plugin.make` takes). A module that cannot be imported, exports no definition, or holds a gate,
 * strategy or scorer of the wrong shape is a `CliInputError` naming the module and what is wrong.
 * The package's name and version (when its package.json is found) go into the scan's record.
 */
import { Effect, Predicate } from "effect"
import { Plugin, type PluginDefinition, type PluginLayer } from "@spectral/engine"
import { readFileSync } from "node:fs"
import { dirname, join, resolve } from "node:path"
import { fileURLToPath, pathToFileURL } from "node:url"
import { CliInputError } from "./CliIo.ts"

export interface LoadedPlugin {
  readonly module: string
  readonly definition: PluginDefinition
  readonly layer: PluginLayer
  /** The module's package, when it is one (for the scan record). */
  readonly package?: { readonly name: string; readonly version: string }
}

const hasFunction = (key: string) => (u: unknown) =>
  Predicate.isObject(u) && typeof (u as { name?: unknown }).name === "string" && typeof (u as Record<string, unknown>)[key] === "function"

const shapes = [
  { key: "gates", check: hasFunction("run"), shape: "{ name, description, run(input) }" },
  { key: "strategies", check: hasFunction("propose"), shape: "{ name, description, propose(input) }" },
  { key: "scorers", check: hasFunction("score"), shape: "{ name, description, score(stimulus, output) }" }
] as const

const packageOf = (url: string): LoadedPlugin["package"] => {
  try {
    let dir = dirname(fileURLToPath(url))
    for (let i = 0; i < 8; i++) {
      try {
        const manifest = JSON.parse(readFileSync(join(dir, "package.json"), "utf8")) as { name?: unknown; version?: unknown }
        if (typeof manifest.name === "string" && typeof manifest.version === "string") return { name: manifest.name, version: manifest.version }
      } catch {
        // no package.json here: look further up
      }
      const up = dirname(dir)
      if (up === dir) break
      dir = up
    }
  } catch {
    // not a file URL
  }
  return undefined
}

const resolvedUrl = (module: string): string => {
  try {
    return import.meta.resolve(module)
  } catch {
    return module
  }
}

/** Import a plugin module and check its definition. */
export const loadPlugin = Effect.fn("cli.loadPlugin")(function*(module: string) {
  const isPath = module.startsWith(".") || module.startsWith("/")
  const url = isPath ? pathToFileURL(resolve(module)).href : module
  const loaded = yield* Effect.tryPromise({
    try: () => import(url) as Promise<Record<string, unknown>>,
    catch: (error) => new CliInputError({ file: module, message: `cannot load the plugin module: ${error instanceof Error ? error.message : String(error)}` })
  })
  const definition = (loaded.default ?? loaded.plugin) as Record<string, unknown> | undefined
  if (!Predicate.isObject(definition) || typeof definition.name !== "string" || definition.name === "") {
    return yield* new CliInputError({
      file: module,
      message: "the plugin module exports no plugin definition: export default (or export const plugin) { name, gates?, strategies?, scorers? }"
    })
  }
  for (const { key, check, shape } of shapes) {
    const entries = definition[key] ?? []
    if (!Array.isArray(entries) || !entries.every(check)) {
      return yield* new CliInputError({ file: module, message: `plugin "${definition.name}": ${key} must be an array of ${shape}` })
    }
  }
  const valid = definition as unknown as PluginDefinition
  const pkg = packageOf(isPath ? url : resolvedUrl(module))
  return { module, definition: valid, layer: Plugin.make(valid), ...(pkg === undefined ? {} : { package: pkg }) } satisfies LoadedPlugin
})

/** The plugins' packages, for the scan record (a plugin loaded from a file outside a package has none). */
export const pluginPackages = (plugins: ReadonlyArray<LoadedPlugin>) =>
  [...new Map(plugins.flatMap((p) => (p.package === undefined ? [] : [[p.package.name, p.package] as const]))).values()]

/** Every module's plugin, in order; the first that fails stops the command. */
export const loadPlugins = (modules: ReadonlyArray<string>) => Effect.forEach(modules, loadPlugin)
