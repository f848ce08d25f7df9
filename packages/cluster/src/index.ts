export {
  Cluster,
  type ClusterOptions,
  DOWNSTREAM_SERVICES,
  ServiceProcess,
  startCluster,
  UNLIMITED_LOGINS_ENV,
} from './cluster.ts'
export { type GatewayLayout, realIpDirectives, renderGatewayConfig } from './gateway.ts'
