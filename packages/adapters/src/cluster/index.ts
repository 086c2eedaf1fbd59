export * as ClusterStorage from "./ClusterStorage.ts"
