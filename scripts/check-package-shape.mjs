#!/usr/bin/env node
// Fails when a package leaves the layout every package shares (issue 15 §7–8), so a reader who
// knows one package finds their way in all of them:
//   - `src/index.ts` (the flat public barrel), `src/errors.ts` (the errors it raises, its own or
//     re-exported), `src/internal/` (what the barrel does not export);
//   - at least one type test, `test/*.test-d.ts`, so a breaking change to a signature fails CI;
//   - README sections in one order: Install, Usage, API (the CLI has Commands and Exit codes before
//     it), Events, Error codes, HIPAA, Security notes; other sections may follow, none may come
//     between them out of order.
// Run by `pnpm lint`.
//
//   node scripts/check-package-shape.mjs [ROOT]    exit 0 clean, 1 with a list of problems
import { existsSync, readdirSync, readFileSync } from 'node:fs'
import { dirname, join, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'

const root = resolve(process.argv[2] ?? join(dirname(fileURLToPath(import.meta.url)), '..'))
const ORDER = [
  'Install',
  'Usage',
  'Commands',
  'Exit codes',
  'API',
  'Events',
  'Error codes',
  'HIPAA',
  'Security notes',
]
const REQUIRED = ORDER.filter((s) => s !== 'Commands' && s !== 'Exit codes')

/** The problems of one package folder, as lines. */
export function packageProblems(dir) {
  const problems = []
  for (const path of ['src/index.ts', 'src/errors.ts', 'src/internal'])
    if (!existsSync(join(dir, path))) problems.push(`missing ${path}`)
  const tests = existsSync(join(dir, 'test')) ? readdirSync(join(dir, 'test')) : []
  if (!tests.some((f) => f.endsWith('.test-d.ts'))) problems.push('no type test (test/*.test-d.ts)')
  const readme = existsSync(join(dir, 'README.md')) ? readFileSync(join(dir, 'README.md'), 'utf8') : ''
  const sections = [...readme.matchAll(/^## (.+?)\s*$/gm)].map((m) => m[1]).filter((s) => ORDER.includes(s))
  for (const s of REQUIRED) if (!sections.includes(s)) problems.push(`README has no "## ${s}" section`)
  const positions = sections.map((s) => ORDER.indexOf(s))
  if (positions.some((p, i) => i > 0 && p <= positions[i - 1]))
    problems.push(`README sections out of order: ${sections.join(', ')} (expected ${ORDER.join(', ')})`)
  return problems
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  let failed = 0
  for (const name of readdirSync(join(root, 'packages')).sort()) {
    const dir = join(root, 'packages', name)
    if (!existsSync(join(dir, 'package.json'))) continue
    for (const p of packageProblems(dir)) {
      console.error(`packages/${name}: ${p}`)
      failed++
    }
  }
  if (failed > 0) process.exit(1)
}
