#!/usr/bin/env node
// Bootstrap for the README's two commands. Needs only Node 20.19+ and npm: it runs the pinned
// pnpm through npx (Node 20's bundled corepack fails its signature check for pnpm here), installs
// from the lockfile, and then runs the demo or every check.
//
//   npm run demo    install, then run the demo
//   npm run check   install, then lint, typecheck, build, test (with coverage), packaging checks
import { spawnSync } from 'node:child_process'
import { mkdirSync, readFileSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'

const root = join(dirname(fileURLToPath(import.meta.url)), '..')
const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'))
const pnpmVersion = pkg.packageManager.replace(/^pnpm@/, '')
const DEMO = '@safeguards-examples/clinic-api'

const [major, minor] = process.versions.node.split('.').map(Number)
if (major < 20 || (major === 20 && minor < 19)) {
  console.error(`safeguards: Node ${process.versions.node} is too old; Node 20.19 or newer is required`)
  process.exit(2)
}

function run(cmd, args, extraEnv = {}) {
  const label = [cmd, ...args].join(' ')
  console.error(`\n▶ ${label}`)
  const result = spawnSync(cmd, args, { cwd: root, stdio: 'inherit', env: { ...process.env, ...extraEnv } })
  if (result.status !== 0) {
    console.error(`✖ ${label} failed (exit ${result.status ?? result.signal})`)
    process.exit(result.status || 1)
  }
}
const pnpm = (...args) => run('npx', ['-y', `pnpm@${pnpmVersion}`, ...args])

const task = process.argv[2]
switch (task) {
  case 'install':
    pnpm('install', '--frozen-lockfile')
    break
  case 'demo':
    pnpm('install', '--frozen-lockfile')
    pnpm('--filter', DEMO, 'start')
    break
  case 'check':
    pnpm('install', '--frozen-lockfile')
    pnpm('lint')
    pnpm('build')
    pnpm('typecheck')
    pnpm('docs:build')
    mkdirSync(join(root, '.reports'), { recursive: true })
    pnpm(
      'exec',
      'vitest',
      'run',
      '--coverage',
      '--reporter=default',
      '--reporter=json',
      '--outputFile.json=.reports/vitest.json',
    )
    pnpm('check:packaging')
    run(join(root, 'node_modules/.bin/safeguards'), ['--version'])
    console.error('\n✔ every check passed')
    break
  default:
    console.error('usage: node scripts/sg.mjs install|demo|check')
    process.exit(2)
}
