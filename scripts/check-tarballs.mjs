#!/usr/bin/env node
// Installs the packed tarballs into fresh apps, as a user would, and checks what the user gets:
//
//   cli    `npm install` of the CLI (with the workspace packages it depends on, also packed) does
//          not install or build pkcs11js or @safeguards/pkcs11; `safeguards --version` runs, and
//          `safeguards hsm list …` exits 3 with one line naming the package to install.
//   mfa    `npm install` of mfa does not install argon2 or @safeguards/password; TOTP enrollment
//          and login work (packages/mfa/test/fixtures/totp-only.mjs), and recovery codes throw
//          ERR_MFA_DEPENDENCY naming @safeguards/password.
//   types  every published package installed together, and a consumer module importing each one
//          type-checks under the repository's strict settings with `skipLibCheck: false` (a type
//          a published .d.ts imports but no dependency provides fails here with TS7016).
//
// Needs built packages (`pnpm build`) and the npm registry for third-party dependencies; every
// @safeguards/* package comes from its tarball (checked in each app's package-lock.json).
// Usage: node scripts/check-tarballs.mjs [cli|mfa|types]... [--keep]
import { spawnSync } from 'node:child_process'
import {
  cpSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'

const root = join(import.meta.dirname, '..')
const args = process.argv.slice(2)
const keep = args.includes('--keep')
const wanted = args.filter((a) => !a.startsWith('--'))
const scenarios = wanted.length > 0 ? wanted : ['cli', 'mfa', 'types']
const work = mkdtempSync(join(tmpdir(), 'safeguards-tarballs-'))
const failures = []

function run(cmd, argv, cwd, options = {}) {
  const r = spawnSync(cmd, argv, { cwd, encoding: 'utf8', maxBuffer: 64 << 20, ...options })
  return { status: r.status ?? -1, stdout: r.stdout ?? '', stderr: r.stderr ?? '' }
}
function check(scenario, ok, what, detail = '') {
  console.error(`${ok ? 'ok  ' : 'FAIL'} ${scenario}: ${what}${ok || detail === '' ? '' : `\n${detail}`}`)
  if (!ok) failures.push(`${scenario}: ${what}`)
}

// --- pack every published package (pnpm pack turns workspace: ranges into versions) ------------
const packages = new Map() // name -> { dir, pkg, tarball }
const tarballs = join(work, 'tarballs')
mkdirSync(tarballs)
for (const dir of readdirSync(join(root, 'packages')).sort()) {
  const file = join(root, 'packages', dir, 'package.json')
  if (!existsSync(file)) continue
  const pkg = JSON.parse(readFileSync(file, 'utf8'))
  if (pkg.private) continue
  if (!existsSync(join(root, 'packages', dir, 'dist'))) {
    console.error(`packages/${dir} is not built: run \`pnpm build\` first`)
    process.exit(2)
  }
  const r = run(
    'npx',
    ['-y', 'pnpm@10.34.8', 'pack', '--pack-destination', tarballs],
    join(root, 'packages', dir),
  )
  if (r.status !== 0) {
    console.error(`pnpm pack failed in packages/${dir}:\n${r.stderr}`)
    process.exit(2)
  }
  const tarball = join(tarballs, `${pkg.name.replace('@', '').replace('/', '-')}-${pkg.version}.tgz`)
  packages.set(pkg.name, { dir, pkg, tarball })
}

/** The tarballs of `names` and of every @safeguards/* package they depend on (not peers). */
function closure(names) {
  const seen = new Set()
  const visit = (name) => {
    if (seen.has(name)) return
    seen.add(name)
    for (const dep of Object.keys(packages.get(name).pkg.dependencies ?? {}))
      if (packages.has(dep)) visit(dep)
  }
  for (const n of names) visit(n)
  return [...seen].map((n) => packages.get(n).tarball)
}

/** A fresh app with `tarballs` installed; returns its directory and the install output. */
function app(name, files) {
  const dir = join(work, name)
  mkdirSync(dir)
  writeFileSync(
    join(dir, 'package.json'),
    JSON.stringify({ name: `app-${name}`, private: true, type: 'module' }),
  )
  const r = run(
    'npm',
    // `--engine-strict=false`: npm's default for a user. The repository's .npmrc sets engine-strict
    // (pnpm passes it on as npm_config_engine_strict), and fastify's light-my-request@6.8 now pulls
    // cookie@2, whose engines say Node >= 22: with engine-strict a Node 20 app could not install
    // fastify at all, which is upstream's doing, not a fault of the tarballs under test.
    [
      'install',
      '--engine-strict=false',
      '--no-audit',
      '--no-fund',
      '--foreground-scripts',
      '--loglevel=info',
      ...files,
    ],
    dir,
  )
  const log = `${r.stdout}\n${r.stderr}`
  check(name, r.status === 0, 'npm install of the tarballs succeeds', log.slice(-4000))
  const lock = JSON.parse(readFileSync(join(dir, 'package-lock.json'), 'utf8'))
  const fromRegistry = Object.entries(lock.packages ?? {})
    .filter(
      ([path, p]) => path.includes('node_modules/@safeguards/') && !String(p.resolved).startsWith('file:'),
    )
    .map(([path]) => path)
  check(
    name,
    fromRegistry.length === 0,
    'every @safeguards/* package comes from a tarball',
    fromRegistry.join('\n'),
  )
  return { dir, log }
}
const installed = (dir, name) => existsSync(join(dir, 'node_modules', name, 'package.json'))

if (scenarios.includes('cli')) {
  const { dir, log } = app('cli', closure(['@safeguards/cli']))
  check('cli', !installed(dir, 'pkcs11js'), 'pkcs11js is not installed')
  check('cli', !installed(dir, '@safeguards/pkcs11'), '@safeguards/pkcs11 is not installed')
  check('cli', !/pkcs11js/.test(log), 'the install output never mentions pkcs11js (nothing built)')
  const bin = join(dir, 'node_modules/.bin/safeguards')
  const v = run(bin, ['--version'], dir)
  check('cli', v.status === 0 && /\d+\.\d+\.\d+/.test(v.stdout), 'safeguards --version runs', v.stderr)
  const hsm = run(bin, ['hsm', 'list', '--key-name', 'k', '--token-label', 't', '--module', '/none.so'], dir)
  check(
    'cli',
    hsm.status === 3 &&
      hsm.stderr ===
        'safeguards hsm: the HSM token support is not installed: npm install @safeguards/pkcs11 (it builds the native pkcs11js)\n',
    'safeguards hsm list exits 3 naming @safeguards/pkcs11',
    `exit ${hsm.status}: ${hsm.stderr}`,
  )
}

if (scenarios.includes('mfa')) {
  const { dir } = app('mfa', closure(['@safeguards/mfa']))
  check('mfa', !installed(dir, 'argon2'), 'argon2 is not installed')
  check('mfa', !installed(dir, '@safeguards/password'), '@safeguards/password is not installed')
  cpSync(join(root, 'packages/mfa/test/fixtures/totp-only.mjs'), join(dir, 'totp-only.mjs'))
  const r = run(process.execPath, ['totp-only.mjs'], dir)
  let out
  try {
    out = JSON.parse(r.stdout)
  } catch {
    out = undefined
  }
  check('mfa', out?.confirmed === true && out?.verified === true, 'TOTP enrollment and login work', r.stderr)
  check(
    'mfa',
    out?.recovery?.code === 'ERR_MFA_DEPENDENCY' && out?.recovery?.dependency === '@safeguards/password',
    'recovery codes throw ERR_MFA_DEPENDENCY naming @safeguards/password',
    r.stdout + r.stderr,
  )
}

if (scenarios.includes('types')) {
  const names = [...packages.keys()]
  // The consumer's own @types/node (what a Node app has), at the repository's version.
  const typesNode = JSON.parse(
    readFileSync(join(root, 'node_modules/@types/node/package.json'), 'utf8'),
  ).version
  const { dir } = app('types', [...closure(names), `@types/node@${typesNode}`])
  const base = JSON.parse(readFileSync(join(root, 'tsconfig.base.json'), 'utf8')).compilerOptions
  const compilerOptions = { ...base, skipLibCheck: false, noEmit: true, types: ['node'] }
  for (const k of ['rootDir', 'outDir', 'customConditions', 'declaration', 'isolatedDeclarations'])
    delete compilerOptions[k]
  writeFileSync(
    join(dir, 'tsconfig.json'),
    JSON.stringify({ compilerOptions, include: ['consumer.ts'] }, null, 2),
  )
  writeFileSync(
    join(dir, 'consumer.ts'),
    `${names.map((n, i) => `import * as p${i} from '${n}'`).join('\n')}\n\nexport const all = [${names.map((_, i) => `p${i}`).join(', ')}]\n`,
  )
  const tsc = run(
    process.execPath,
    [join(root, 'node_modules/typescript/bin/tsc'), '-p', 'tsconfig.json'],
    dir,
  )
  check(
    'types',
    tsc.status === 0,
    `a strict consumer of all ${names.length} packages type-checks (skipLibCheck: false)`,
    tsc.stdout + tsc.stderr,
  )
}

if (keep) console.error(`apps kept in ${work}`)
else rmSync(work, { recursive: true, force: true })
console.error(failures.length === 0 ? 'tarballs: every check passed' : `tarballs: ${failures.length} failed`)
process.exit(failures.length === 0 ? 0 : 1)
