/**
 * SoftHSM2 for tests: each test file initialises its own tokens in a temporary directory through a
 * temporary `SOFTHSM2_CONF` (set in this worker process before the library is initialised), and
 * removes them afterwards. With `CI=true` a missing SoftHSM2 fails the run; elsewhere the tests
 * skip with a printed reason.
 */
import { spawnSync } from 'node:child_process'
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Secret } from '@safeguards/core'
import { afterAll, beforeAll, describe } from 'vitest'
import { Pkcs11KekProvider, type Pkcs11ProviderOptions } from '../src/index.js'

export const SOFTHSM_MODULE = process.env.SOFTHSM2_MODULE ?? '/usr/lib/softhsm/libsofthsm2.so'
export const USER_PIN = '246813579'
export const SO_PIN = '97531864'

function missingReason(): string | undefined {
  if (!existsSync(SOFTHSM_MODULE)) return `${SOFTHSM_MODULE} not found`
  const probe = spawnSync('softhsm2-util', ['--version'], { encoding: 'utf8' })
  if (probe.error !== undefined || probe.status !== 0) return 'softhsm2-util not on PATH'
  return undefined
}

const reason = missingReason()
if (reason !== undefined) {
  if (process.env.CI === 'true') {
    throw new Error(`SoftHSM2 is required with CI=true (${reason}); .ci/run installs the softhsm2 package`)
  }
  console.warn(`skipping @safeguards/pkcs11 token tests: ${reason} (apt-get install softhsm2)`)
}

/** `describe` when SoftHSM2 is present, `describe.skip` otherwise (never skipped with CI=true). */
export const describeHsm: typeof describe.skip = reason === undefined ? describe : describe.skip

/** Temporary SoftHSM2 tokens for one test file. */
export interface SoftHsm {
  dir: string
  /** Serial numbers by label. */
  serials: Map<string, string>
  options(label: string, keyName: string, extra?: Partial<Pkcs11ProviderOptions>): Pkcs11ProviderOptions
  cleanup(): void
}

/**
 * Creates a temporary token directory with one initialised token per label and points
 * `SOFTHSM2_CONF` at it. Call in `beforeAll`, before any provider opens the library.
 */
export function createSoftHsm(labels: string[]): SoftHsm {
  const dir = mkdtempSync(join(tmpdir(), 'sg-softhsm-'))
  const conf = join(dir, 'softhsm2.conf')
  writeFileSync(
    conf,
    `directories.tokendir = ${dir}\nobjectstore.backend = file\nlog.level = ERROR\nslots.removable = false\n`,
    { mode: 0o600 },
  )
  process.env.SOFTHSM2_CONF = conf
  const serials = new Map<string, string>()
  for (const label of labels) {
    const r = spawnSync(
      'softhsm2-util',
      ['--init-token', '--free', '--label', label, '--so-pin', SO_PIN, '--pin', USER_PIN],
      { encoding: 'utf8', env: { ...process.env, SOFTHSM2_CONF: conf } },
    )
    if (r.status !== 0) throw new Error(`softhsm2-util --init-token failed: ${r.stderr}`)
  }
  const show = spawnSync('softhsm2-util', ['--show-slots'], {
    encoding: 'utf8',
    env: { ...process.env, SOFTHSM2_CONF: conf },
  })
  let serial: string | undefined
  for (const line of show.stdout.split('\n')) {
    const s = /Serial number:\s+(\S+)/.exec(line)
    if (s) serial = s[1]
    const l = /Label:\s+(.+?)\s*$/.exec(line)
    if (l && serial !== undefined && labels.includes(l[1] as string)) serials.set(l[1] as string, serial)
  }
  return {
    dir,
    serials,
    options: (label, keyName, extra) => ({
      module: SOFTHSM_MODULE,
      token: { label },
      pin: Secret.of(USER_PIN),
      keyName,
      ...extra,
    }),
    cleanup: () => rmSync(dir, { recursive: true, force: true }),
  }
}

/** Opens a provider, runs `f` on it and closes it, also when `f` throws. */
export async function withProvider(
  options: Pkcs11ProviderOptions,
  f: (provider: Pkcs11KekProvider) => Promise<void>,
): Promise<void> {
  const provider = await Pkcs11KekProvider.open(options)
  try {
    await f(provider)
  } finally {
    await provider.close()
  }
}

/**
 * One test file's tokens and providers: before all tests, the tokens of `labels`, then `setup`,
 * which opens its providers through `open`; after all tests, every provider `open` opened is closed
 * (in order, also when `setup` failed half-way) and the tokens are removed.
 */
export function useSoftHsm(
  labels: string[],
  setup: (
    hsm: SoftHsm,
    open: (options: Pkcs11ProviderOptions) => Promise<Pkcs11KekProvider>,
  ) => Promise<void>,
): void {
  let hsm: SoftHsm | undefined
  const opened: Pkcs11KekProvider[] = []
  const open = async (options: Pkcs11ProviderOptions): Promise<Pkcs11KekProvider> => {
    const provider = await Pkcs11KekProvider.open(options)
    opened.push(provider)
    return provider
  }
  beforeAll(async () => {
    hsm = createSoftHsm(labels)
    await setup(hsm, open)
  })
  afterAll(async () => {
    for (const p of opened) await p.close()
    hsm?.cleanup()
  })
}
