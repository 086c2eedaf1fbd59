export * as ClusterStorage from "./ClusterStorage.ts"
export * as ClusterTiming from "./ClusterTiming.ts"
export * as EmbeddedCluster from "./EmbeddedCluster.ts"
export { ClusterUnavailable } from "./ClusterStorage.ts"
