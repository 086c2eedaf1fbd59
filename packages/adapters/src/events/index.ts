/** Durable events: the EventBus on the SQL store's transactional outbox. See DurableEventBus.ts. */
export { DurableEventBus, type DurableEventBusOptions } from "./DurableEventBus.ts"
