/**
 * The host API's errors, each a `Schema.TaggedError` with its HTTP status and a `message` naming
 * what is wrong (the key, the entity and id, the state). Shared by the server and the typed client;
 * nothing here touches storage.
 */
import { Schema } from "effect"

/** 401: the bearer key is missing, unknown or revoked (the message says which). */
export class ApiUnauthorized extends Schema.TaggedError<ApiUnauthorized>()("ApiUnauthorized", {
  message: Schema.String
}, { httpApiStatus: 401 }) {}

/** 403: the key's scope does not allow this endpoint, in the key's own workspace. */
export class ApiForbidden extends Schema.TaggedError<ApiForbidden>()("ApiForbidden", {
  message: Schema.String
}, { httpApiStatus: 403 }) {}

/** 404: nothing of that id in the key's workspace (another workspace's ids are not found either). */
export class ApiNotFound extends Schema.TaggedError<ApiNotFound>()("ApiNotFound", {
  entity: Schema.String,
  id: Schema.String,
  message: Schema.String
}, { httpApiStatus: 404 }) {}

/** 409: the request is valid but the stored state does not allow it (the message names the state); nothing changed. */
export class ApiConflict extends Schema.TaggedError<ApiConflict>()("ApiConflict", {
  message: Schema.String
}, { httpApiStatus: 409 }) {}

/** 400: a well-formed request the engine refuses (a snooze date in the past, a workspace id that is not the path's). */
export class ApiInvalid extends Schema.TaggedError<ApiInvalid>()("ApiInvalid", {
  message: Schema.String
}, { httpApiStatus: 400 }) {}

/** 503: storage is unavailable; retry later. */
export class ApiUnavailable extends Schema.TaggedError<ApiUnavailable>()("ApiUnavailable", {
  message: Schema.String
}, { httpApiStatus: 503 }) {}

export const notFound = (entity: string, id: string) => new ApiNotFound({ entity, id, message: `${entity} ${id} not found` })

/** 413: the request body is over the API's limit (`SPECTRAL_API_MAX_BODY_BYTES`, default 1 MiB); the rest of it is not read. */
export class ApiPayloadTooLarge extends Schema.TaggedError<ApiPayloadTooLarge>()("ApiPayloadTooLarge", {
  limitBytes: Schema.Int,
  message: Schema.String
}, { httpApiStatus: 413 }) {}
