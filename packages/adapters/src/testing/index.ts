export * from "./ThrowawayPostgres.ts"
export * from "./OtlpProtobufEncoder.ts"
