export {
  Cluster,
  type ClusterOptions,
  DOWNSTREAM_SERVICES,
  ServiceProcess,
  serviceEntry,
  startCluster,
  UNLIMITED_LOGINS_ENV,
  waitForGateway,
} from './cluster.ts'
export {
  downstreamBlocks,
  GATEWAY_SERVICES,
  GATEWAY_STATIC_DIRS,
  GATEWAY_TEMPLATE,
  type GatewayLayout,
  realIpDirectives,
  renderGatewayConfig,
  serversVariable,
  templateRegion,
} from './gateway.ts'
export { PEER_SERVICES, type PeerService, peerSecrets, TEXTBOOK } from './peers.ts'
