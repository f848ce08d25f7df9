// CPU accounting of OS processes from /proc (Linux), for the benchmark's cost per request. Kept
// here, not in loadtest: the servers' own cpuTimeMs() (redis, postgres, nginx, ManagedProcess)
// and the cluster runner's pids() use it, and loadtest depends on both.
import { readdirSync, readFileSync } from 'node:fs'
import { readdir } from 'node:fs/promises'

const CLOCK_TICKS_PER_SECOND = 100

/**
 * CPU time of a process in ms, summed over its threads from /proc/<pid>/task/<tid>/schedstat: the
 * scheduler's own nanosecond runtime. /proc/<pid>/stat counts whole clock ticks charged to whoever
 * runs when the tick fires, which over a 1 s window of a busy shared core is off by ±10 %; the
 * benchmark's per-request costs need better. Falls back to /proc/<pid>/stat without schedstat.
 */
export function processCpuTimeMs(pid: number): number {
  try {
    let ns = 0
    for (const tid of readdirSync(`/proc/${pid}/task`)) {
      try {
        ns += Number(readFileSync(`/proc/${pid}/task/${tid}/schedstat`, 'utf8').split(' ')[0])
      } catch {}
    }
    if (ns > 0) return ns / 1e6
  } catch {}
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8')
    // The command name (field 2) may hold spaces; count fields after its closing parenthesis.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ')
    const utime = Number(fields[11])
    const stime = Number(fields[12])
    return ((utime + stime) * 1000) / CLOCK_TICKS_PER_SECOND
  } catch {
    return 0
  }
}

/**
 * Context switches of a process's main thread (voluntary + involuntary, /proc/<pid>/status), 0
 * when unreadable. For a Node.js service the main thread is the event loop: a voluntary switch is
 * the loop going to sleep in epoll_wait with nothing to do, so their count over a window says how
 * often the loop was woken, which is what a request that waits on Redis or auth adds.
 */
export function mainThreadContextSwitches(pid: number): number {
  try {
    const status = readFileSync(`/proc/${pid}/status`, 'utf8')
    const count = (field: string) => Number(new RegExp(`^${field}:\\s+(\\d+)`, 'm').exec(status)?.[1] ?? 0)
    return count('voluntary_ctxt_switches') + count('nonvoluntary_ctxt_switches')
  } catch {
    return 0
  }
}

/** A process and all its descendants (postgres and nginx fork workers). */
export async function processTree(rootPid: number): Promise<number[]> {
  const children = await childrenByParent()
  const tree: number[] = []
  const queue = [rootPid]
  while (queue.length > 0) {
    const pid = queue.pop()!
    tree.push(pid)
    queue.push(...(children.get(pid) ?? []))
  }
  return tree
}

async function childrenByParent(): Promise<Map<number, number[]>> {
  const children = new Map<number, number[]>()
  for (const entry of await readdir('/proc').catch(() => [] as string[])) {
    if (!/^\d+$/.test(entry)) continue
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8')
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1])
      const list = children.get(ppid) ?? []
      list.push(Number(entry))
      children.set(ppid, list)
    } catch {}
  }
  return children
}

/** CPU time of a process and all its descendants, those that have exited included. */
export async function processTreeCpuTimeMs(rootPid: number): Promise<number> {
  let total = 0
  for (const pid of await processTree(rootPid)) total += processCpuTimeMs(pid) + reapedChildrenCpuTimeMs(pid)
  return total
}

/**
 * The CPU of the children a process has waited for (cutime + cstime). A tree's live members alone
 * are not monotonic: when a child exits (a Postgres backend whose pool connection idled out, an
 * autovacuum worker), its CPU leaves the sum, and a window around that exit reads negative. The
 * parent's count of reaped children keeps it.
 */
function reapedChildrenCpuTimeMs(pid: number): number {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8')
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ')
    return ((Number(fields[13]) + Number(fields[14])) * 1000) / CLOCK_TICKS_PER_SECOND
  } catch {
    return 0
  }
}
