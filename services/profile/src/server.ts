import { runDownstream } from '@authlab/downstream'

// The profile service: its own process, name and routes (/profile/<mode>/me); the verification is shared.
await runDownstream('profile')
