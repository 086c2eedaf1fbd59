/**
 * Content classes of the engine's telemetry (seeds: payload-free spans, PLATFORM / OPERATIONS /
 * SYNTHETIC): which class a workspace's data is, and so what its spans may carry when exported.
 *   platform    customer data: no content leaves the process (content attributes, exception
 *               messages and error descriptions are dropped)
 *   operations  the operator's own data: content is replaced by a marker giving its length
 *   synthetic   generated data (world-model stimuli): content may be exported as it is
 * A workspace without a setting takes the default class, `platform` unless configured: the
 * strictest. Owns the setting and its parsing; the enforcement is `ContentClassSpanProcessor`.
 */
import { Config, Effect, Schema } from "effect"

export const ContentClass = Schema.Literals(["platform", "operations", "synthetic"])
export type ContentClass = typeof ContentClass.Type

export const contentClasses: ReadonlyArray<ContentClass> = ContentClass.literals

/** A content class that does not exist, with where it was given. */
export class UnknownContentClass extends Schema.TaggedError<UnknownContentClass>()("UnknownContentClass", {
  contentClass: Schema.String,
  /** The workspace it was set for; absent for the default class. */
  workspaceId: Schema.optionalKey(Schema.String),
  message: Schema.String
}) {}

/** A per-workspace entry that is not `WORKSPACE=CLASS`. */
export class MalformedContentClassSetting extends Schema.TaggedError<MalformedContentClassSetting>()("MalformedContentClassSetting", {
  entry: Schema.String,
  message: Schema.String
}) {}

export interface ContentClassPolicy {
  readonly defaultClass: ContentClass
  readonly workspaces: ReadonlyMap<string, ContentClass>
}

const isContentClass = Schema.is(ContentClass)

const contentClassOf = (value: string, workspaceId?: string): Effect.Effect<ContentClass, UnknownContentClass> => {
  const trimmed = value.trim().toLowerCase()
  return isContentClass(trimmed)
    ? Effect.succeed(trimmed)
    : Effect.fail(
      new UnknownContentClass({
        contentClass: value,
        ...(workspaceId === undefined ? {} : { workspaceId }),
        message: `unknown telemetry content class "${value}"${workspaceId === undefined ? "" : ` for workspace ${workspaceId}`} (expected ${contentClasses.join(", ")})`
      })
    )
}

/** A policy from settings given as text (a host's configuration): every class is checked. */
export const makePolicy = (settings: {
  readonly defaultClass?: string | undefined
  readonly workspaces?: Readonly<Record<string, string>> | undefined
}): Effect.Effect<ContentClassPolicy, UnknownContentClass> =>
  Effect.gen(function*() {
    const defaultClass = yield* contentClassOf(settings.defaultClass ?? "platform")
    const workspaces = new Map<string, ContentClass>()
    for (const [workspaceId, value] of Object.entries(settings.workspaces ?? {})) {
      workspaces.set(workspaceId, yield* contentClassOf(value, workspaceId))
    }
    return { defaultClass, workspaces }
  })

/** `ws-a=synthetic,ws-b=operations` as a record (empty text: no per-workspace setting). */
export const parseWorkspaceClasses = (text: string): Effect.Effect<Record<string, string>, MalformedContentClassSetting> =>
  Effect.gen(function*() {
    const out: Record<string, string> = {}
    for (const raw of text.split(",")) {
      const entry = raw.trim()
      if (entry === "") continue
      const at = entry.indexOf("=")
      const workspaceId = at < 0 ? "" : entry.slice(0, at).trim()
      const value = at < 0 ? "" : entry.slice(at + 1).trim()
      if (workspaceId === "" || value === "") {
        return yield* new MalformedContentClassSetting({ entry, message: `telemetry content class entry "${entry}" is not WORKSPACE=CLASS` })
      }
      out[workspaceId] = value
    }
    return out
  })

/**
 * The policy from the environment: `SPECTRAL_TELEMETRY_CONTENT_CLASS` (the default class,
 * `platform` when unset) and `SPECTRAL_TELEMETRY_WORKSPACE_CONTENT_CLASSES` (`WORKSPACE=CLASS,...`).
 */
export const policyConfig = Effect.gen(function*() {
  const defaultClass = yield* Config.String("SPECTRAL_TELEMETRY_CONTENT_CLASS").pipe(Config.withDefault("platform"))
  const perWorkspace = yield* Config.String("SPECTRAL_TELEMETRY_WORKSPACE_CONTENT_CLASSES").pipe(Config.withDefault(""))
  return yield* makePolicy({ defaultClass, workspaces: yield* parseWorkspaceClasses(perWorkspace) })
})

/** The class a workspace's spans are exported under. */
export const classOf = (policy: ContentClassPolicy, workspaceId: string | undefined): ContentClass =>
  workspaceId === undefined || workspaceId === "" ? policy.defaultClass : policy.workspaces.get(workspaceId) ?? policy.defaultClass

/** The stricter of two classes (a trace touching two workspaces is exported under the stricter). */
export const stricter = (a: ContentClass, b: ContentClass): ContentClass =>
  a === "platform" || b === "platform" ? "platform" : a === "operations" || b === "operations" ? "operations" : "synthetic"
