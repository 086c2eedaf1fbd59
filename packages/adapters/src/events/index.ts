/** Durable events: the EventBus on the SQL store's transactional outbox. See DurableEventBus.ts. */
export * as DurableEventBus from "./DurableEventBus.ts"
export type { DurableEventBusOptions } from "./DurableEventBus.ts"
