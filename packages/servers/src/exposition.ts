// A sample line of the Prometheus text format: `name{label="value",...} value [timestamp]`, blanks
// or tabs between tokens, an optional trailing comma in the braces, and label values that may hold
// commas, braces and the escapes \\, \" and \n. (parse-prometheus-text-format, the npm parser,
// has had no release since 2024, ships no types, and folds histograms into families, so a sample
// such as `x_count` could not be looked up by its own name.)
const QUOTED = String.raw`"(?:[^"\\\n]|\\.)*"`
const PAIR = String.raw`[a-zA-Z_]\w*[ \t]*=[ \t]*${QUOTED}`
const SAMPLE = new RegExp(
  String.raw`^[ \t]*([a-zA-Z_:][\w:]*)[ \t]*(?:\{[ \t]*((?:${PAIR}[ \t]*,[ \t]*)*(?:${PAIR})?)[ \t]*,?[ \t]*\})?[ \t]*(\S+)(?:[ \t]+-?\d+)?[ \t]*$`,
)
const LABEL = /([a-zA-Z_]\w*)[ \t]*=[ \t]*"((?:[^"\\\n]|\\.)*)"/g

const labelValue = (value: string) => value.replace(/\\(.)/g, (_, c: string) => (c === 'n' ? '\n' : c))

const number = (value: string) =>
  /^[+-]?Inf$/.test(value) ? (value.startsWith('-') ? -Infinity : Infinity) : Number(value)

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
  for (const line of exposition.split('\n')) {
    const m = SAMPLE.exec(line)
    if (m?.[1] !== name) continue
    const have = new Map([...(m[2] ?? '').matchAll(LABEL)].map(([, k, v]) => [k, labelValue(v!)]))
    if (Object.entries(labels).every(([k, v]) => have.get(k) === v)) return number(m[3]!)
  }
  return undefined
}
