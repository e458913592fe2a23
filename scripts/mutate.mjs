#!/usr/bin/env node
// Mutation testing of one package with StrykerJS 9 and its Vitest runner (StrykerJS 10 needs Node 22).
//
//   pnpm mutate <package> [file…] [--concurrency N] [--incremental] [--bail]
//
// <package> is a folder under packages/ (the Vitest project of the same name). The files to mutate
// are listed in packages/<package>/mutate.json (`{ "mutate": ["src/…"] }`, whole files, paths
// relative to the package); files given on the command line replace that list for one run.
// Each mutant runs every test that covers it: with --bail (faster) the Vitest runner stops at the
// first failure and sometimes keeps no test result, and then reports a killed mutant as survived.
// Reports go to .reports/mutation/<package>/ (clear text on stdout, HTML and JSON on disk).
// Too slow for CI: run it by hand on the files you change. Exit status: 0 when the run completes
// (whatever the score), 1 when Stryker fails or a test file of the package did not run, 2 for a
// usage error.
//
// Stryker copies the package into a sandbox, without the other packages. A package whose tests
// import another package's test support by relative path (the adapters' shared conformance suite,
// the stores' shared cases) is mutated in place instead: its files are instrumented where they
// are and restored at the end (also on Ctrl-C; after a kill -9, `git checkout` restores them).
// Either way, a test file that did not run makes the run fail instead of reporting every mutant
// as survived.
import { existsSync, readdirSync, readFileSync } from 'node:fs'
import { dirname, join, relative, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import { parseArgs } from 'node:util'

const root = join(dirname(fileURLToPath(import.meta.url)), '..')
process.chdir(root)

const usage = (message) => {
  console.error(
    `mutate: ${message}\nusage: pnpm mutate <package> [file…] [--concurrency N] [--incremental] [--bail]`,
  )
  process.exit(2)
}

let args
try {
  args = parseArgs({
    allowPositionals: true,
    options: { concurrency: { type: 'string' }, incremental: { type: 'boolean' }, bail: { type: 'boolean' } },
  })
} catch (e) {
  usage(e.message)
}
const [pkg, ...files] = args.positionals
if (pkg === undefined || !/^[a-z0-9-]+$/.test(pkg)) usage('name a package folder, for example "rbac"')
const dir = `packages/${pkg}`
const listFile = join(dir, 'mutate.json')
if (!existsSync(join(dir, 'package.json'))) usage(`no package at ${dir}`)
let mutate = files
if (mutate.length === 0) {
  if (!existsSync(listFile)) usage(`${listFile} is missing: list the files to mutate there, or name them`)
  const list = JSON.parse(readFileSync(listFile, 'utf8')).mutate
  if (!Array.isArray(list) || list.length === 0 || !list.every((f) => typeof f === 'string'))
    usage(`${listFile} needs "mutate": a non-empty list of file paths relative to the package`)
  mutate = list
}
for (const f of mutate) {
  if (/:\d/.test(f)) usage(`"${f}": whole files only, no line ranges`)
  if (!existsSync(join(dir, f))) usage(`"${f}" does not exist in ${dir}`)
}
const concurrency = args.values.concurrency === undefined ? 1 : Number(args.values.concurrency)
if (!Number.isInteger(concurrency) || concurrency < 1) usage('--concurrency expects a positive integer')

/** The package's test sources (recursively under test/), relative to the repository root. */
function testSources(from) {
  return readdirSync(from, { withFileTypes: true }).flatMap((e) => {
    const path = join(from, e.name)
    if (e.isDirectory()) return e.name === 'fixtures' ? [] : testSources(path)
    return /\.tsx?$/.test(e.name) ? [path] : []
  })
}
const sources = existsSync(join(dir, 'test')) ? testSources(join(dir, 'test')) : []
/** Relative imports of the tests into other packages (which the sandbox does not hold). */
const outside = sources.flatMap((file) =>
  [...readFileSync(file, 'utf8').matchAll(/from '(\.\.?\/[^']+)'/g)]
    .map((m) => relative(root, resolve(dirname(file), m[1])))
    .filter((target) => target.startsWith('packages/') && !target.startsWith(`${dir}/`)),
)
const inPlace = outside.length > 0
if (inPlace)
  console.error(
    `mutate: the tests import from outside ${dir} (${[...new Set(outside)].slice(0, 3).join(', ')}…): mutating in place; do not edit or test until it ends`,
  )

// The Vitest config Stryker loads in its sandbox keeps only this package's project.
process.env.SAFEGUARDS_MUTATE_PROJECT = pkg

const reports = `.reports/mutation/${pkg}`
const { Stryker } = await import('@stryker-mutator/core')
const stryker = new Stryker({
  // Under pnpm the runner is not a sibling of @stryker-mutator/core in node_modules, so Stryker's
  // plugin discovery cannot find it by name: load it by its resolved path.
  plugins: [fileURLToPath(import.meta.resolve('@stryker-mutator/vitest-runner'))],
  testRunner: 'vitest',
  vitest: { configFile: 'scripts/mutate.vitest.config.ts', dir, related: false },
  coverageAnalysis: 'perTest',
  inPlace,
  mutate: mutate.map((f) => `${dir}/${f}`),
  // The sandbox needs the root configs, scripts and this package; other workspace packages are
  // reached through node_modules links to the originals (they are not mutated).
  ignorePatterns: [
    '/packages/*',
    `!/packages/${pkg}`,
    '/examples',
    '/docs',
    // The format tests check the specs they implement against docs/formats.
    '!/docs/formats',
    '/.reports',
    '**/dist',
    '**/bench',
  ],
  concurrency,
  disableBail: args.values.bail !== true,
  timeoutMS: 10_000,
  incremental: args.values.incremental === true,
  incrementalFile: `${reports}/incremental.json`,
  reporters: ['clear-text', 'progress', 'html', 'json'],
  clearTextReporter: { allowEmojis: false, logTests: false, reportScoreTable: true },
  htmlReporter: { fileName: `${reports}/index.html` },
  jsonReporter: { fileName: `${reports}/mutation.json` },
  thresholds: { high: 90, low: 80, break: null },
  tempDirName: '.stryker-tmp',
  cleanTempDir: true,
})
try {
  await stryker.runMutationTest()
  console.error(`mutate: reports in ${reports}/ (index.html, mutation.json)`)
  // The Vitest runner reports a mutant that breaks every test file while it loads (for example
  // one in code a describe block runs) as survived with no test completed: name those.
  const report = JSON.parse(readFileSync(`${reports}/mutation.json`, 'utf8'))
  // A test file that failed to load (or that Vitest did not collect) leaves its mutants
  // unexamined: the score would be false.
  const ran = new Set(Object.keys(report.testFiles ?? {}))
  const missing = sources.filter((f) => /\.test(-d)?\.ts$/.test(f) && !ran.has(f))
  if (missing.length > 0) {
    console.error(
      `mutate: ${missing.length} test file(s) did not run, the score is not valid: ${missing.join(', ')}`,
    )
    process.exitCode = 1
  }
  for (const [file, { mutants }] of Object.entries(report.files))
    for (const m of mutants)
      if (m.status === 'Survived' && m.testsCompleted === 0)
        console.error(
          `mutate: ${file}:${m.location.start.line} ${m.mutatorName} "survived" without running a test: check it by hand`,
        )
} catch (e) {
  console.error(`mutate: Stryker failed: ${e instanceof Error ? e.message : String(e)}`)
  process.exit(1)
}
