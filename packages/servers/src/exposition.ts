/**
 * The value of the first series called `name` that carries (at least) these labels, in any order,
 * from a Prometheus text exposition; undefined when there is none. For tests: prom-client orders a
 * metric's own labels and a registry's default labels differently from one metric type to another.
 */
export function seriesValue(
  exposition: string,
  name: string,
  labels: Record<string, string> = {},
): number | undefined {
  const wanted = Object.entries(labels).map(([k, v]) => `${k}="${v}"`)
  for (const line of exposition.split('\n')) {
    const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)$/.exec(line)
    if (m?.[1] !== name) continue
    const have = new Set(m[2] ? m[2].split(',') : [])
    if (wanted.every((w) => have.has(w))) return Number(m[3])
  }
  return undefined
}
