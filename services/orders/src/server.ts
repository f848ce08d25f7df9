import { runDownstream } from '@authlab/downstream'

// The orders service: its own process, name and routes (/orders/<mode>/me); the verification is shared.
await runDownstream('orders')
