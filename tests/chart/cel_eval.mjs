// cel_eval.mjs: evaluates CEL expressions (the chart's webhook matchConditions) with an
// independent CEL implementation, @marcbachmann/cel-js, installed by .ci/setup into .tools/npm.
// stdin: [{"expr": "...", "vars": {...}}, ...]; stdout: [{"value": ...} or {"error": "..."}, ...].
import { readFileSync } from 'node:fs'
import { pathToFileURL } from 'node:url'

const lib = process.argv[2]
const { parse } = await import(pathToFileURL(lib).href)
const cases = JSON.parse(readFileSync(0, 'utf8'))
const out = cases.map(({ expr, vars }) => {
  try {
    const v = parse(expr)(vars)
    return { value: typeof v === 'bigint' ? Number(v) : v }
  } catch (e) {
    return { error: String(e.message).split('\n')[0] }
  }
})
process.stdout.write(JSON.stringify(out) + '\n')
