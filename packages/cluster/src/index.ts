export { Cluster, type ClusterOptions, DOWNSTREAM_SERVICES, ServiceProcess, startCluster } from './cluster.ts'
export { type GatewayLayout, renderGatewayConfig } from './gateway.ts'
