export { buildDownstreamApp } from './app.ts'
export { type DownstreamConfig, DownstreamConfigSchema, loadDownstreamConfig } from './config.ts'
export { runDownstream } from './server.ts'
