import type { Results } from '../../results.ts'
import { stripPlot } from '../charts/strip.ts'
import { f0 } from '../format.ts'
import { type Block, chart } from '../model.ts'

function strip(r: Results): Block[] {
  const rows = Object.entries(r.revocation)
    .filter(([, v]) => !v.censored)
    .map(([mode, v]) => ({
      label: mode,
      values: Object.entries(v.replicaWindowsMs ?? {}).flatMap(([replica, trials]) =>
        trials.map((ms) => ({ replica, ms })),
      ),
    }))
  return chart(
    'revocation-by-replica',
    'Revocation window after logout-all, each replica and trial',
    'Every dot is one replica in one trial: how long after logout-all returned it still accepted the credential (0 = refused from the first request). A mode whose dots spread to the right is only as fresh as its slowest replica.',
    stripPlot('ms after logout-all returned (log scale from 0)', rows),
  )
}

/** Per mode: how long after a role change returned it still granted the withdrawn role. */
function permissionChange(r: Results): Block[] {
  const probe = r.permissionChange ?? {}
  if (Object.keys(probe).length === 0) return []
  return [
    { kind: 'h2', text: 'Permission change: a withdrawn role, per replica' },
    {
      kind: 'p',
      text: 'An admin withdraws `admin` from a logged-in user while every replica is asked `GET /<service>/<mode>/admin` with that login. The window is how long after the change returned a request could still start and be granted with the old role; the user is not logged out (the token modes refuse the older token until a refresh, the session modes answer 403 once they see the new roles).',
    },
    {
      kind: 'table',
      head: [
        'mode',
        'window p50 ms',
        'p99 ms',
        'max ms',
        'granted after the change',
        'replicas seen',
        'trials',
      ],
      rows: Object.entries(probe).map(([m, v]) => [
        `\`${m}\``,
        v.censored ? `≥ ${f0(v.windowMsP50)} (until exp)` : f0(v.windowMsP50),
        f0(v.windowMsP99),
        f0(v.windowMsMax),
        String(v.acceptedAfterRevoke),
        String(v.replicasSeen),
        String(v.trials),
      ]),
    },
  ]
}

export function revocation(r: Results): Block[] {
  if (Object.keys(r.revocation).length === 0) return permissionChange(r)
  return [
    { kind: 'h2', text: 'Revocation window after logout-all, per replica' },
    ...strip(r),
    {
      kind: 'table',
      head: [
        'mode',
        'window p50 ms',
        'p99 ms',
        'max ms',
        'accepted after revoke',
        'replicas seen',
        'replicas accepting after',
        'trials',
      ],
      rows: Object.entries(r.revocation).map(([m, v]) => [
        `\`${m}\``,
        v.censored ? `≥ ${f0(v.windowMsP50)} (until exp)` : f0(v.windowMsP50),
        f0(v.windowMsP99),
        f0(v.windowMsMax),
        String(v.acceptedAfterRevoke),
        String(v.replicasSeen),
        String(v.replicasAcceptingAfterRevoke),
        String(v.trials),
      ]),
    },
    ...permissionChange(r),
  ]
}
