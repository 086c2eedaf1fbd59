/**
 * The workspace id every stored row and every event names. It is never empty: the SQL store sets
 * it per transaction and row-level security compares rows against it, so an empty id would name
 * the "no workspace set" state of a reused connection. Every contract field that holds a workspace
 * id uses this schema; the storage and ingest boundaries check it too.
 */
import { Schema } from "effect"

export const WorkspaceId = Schema.NonEmptyString.annotate({
  identifier: "WorkspaceId",
  description: "a workspace id: any non-empty string"
})
export type WorkspaceId = typeof WorkspaceId.Type

/** Whether `id` can name a workspace (the check the boundaries that take plain strings apply). */
export const isWorkspaceId = (id: string): boolean => id.length > 0
