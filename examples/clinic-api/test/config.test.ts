/**
 * Configuration of the server and the walkthrough from the environment: embedded defaults with
 * nothing set, shared mode with both URLs, and a clear startup error for one URL without the other
 * or a missing shared directory. The shared secrets file is created once, mode 0600, and read back
 * by a second instance; environment variables override it.
 */
import { execFileSync, spawnSync } from 'node:child_process'
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { generateCheckpointKey } from '@safeguards/audit-log'
import { afterEach, describe, expect, it } from 'vitest'
import { STAFF_USERNAMES } from '../src/clinic.js'
import { DemoConfigError, demoShared } from '../src/demo.js'
import { ClinicConfigError, loadOrCreateSecrets } from '../src/secrets.js'
import { configFromEnv, redactUrl } from '../src/server.js'

const dirs: string[] = []
const temp = (): string => {
  const d = mkdtempSync(join(tmpdir(), 'sg-clinic-cfg-'))
  dirs.push(d)
  return d
}
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true })
})

const db = 'postgres://app:s3cret@db.internal:5432/clinic'
const redis = 'redis://:pw@cache.internal:6379'

describe('configFromEnv', () => {
  it('embedded defaults with nothing set', () => {
    const c = configFromEnv({}, '/srv')
    expect(c).toMatchObject({ mode: 'embedded', host: '127.0.0.1', port: 3000, dataDir: '/srv/clinic-data' })
    expect(c.sharedDir).toBe(c.dataDir)
    expect(c.shared).toBeUndefined()
  })

  it('shared mode with both URLs and a shared directory', () => {
    const c = configFromEnv(
      { DATABASE_URL: db, REDIS_URL: redis, CLINIC_SHARED_DIR: '/mnt/shared', PORT: '0', HOST: '0.0.0.0' },
      '/srv',
    )
    expect(c).toMatchObject({ mode: 'shared', port: 0, host: '0.0.0.0', sharedDir: '/mnt/shared' })
    expect(c.shared).toEqual({
      databaseUrl: db,
      redisUrl: redis,
      schema: 'clinic_audit',
      stream: 'clinic-api',
      redisPrefix: 'clinic:',
    })
  })

  it('refuses one URL without the other, a missing shared directory, and bad values, naming the variable', () => {
    expect(() => configFromEnv({ DATABASE_URL: db })).toThrow(/DATABASE_URL is set but REDIS_URL is not/)
    expect(() => configFromEnv({ REDIS_URL: redis })).toThrow(/REDIS_URL is set but DATABASE_URL is not/)
    expect(() => configFromEnv({ DATABASE_URL: db, REDIS_URL: redis })).toThrow(
      /CLINIC_SHARED_DIR is required/,
    )
    expect(() => configFromEnv({ PORT: '70000' })).toThrow(/PORT/)
    expect(() =>
      configFromEnv({ DATABASE_URL: 'mysql://x', REDIS_URL: redis, CLINIC_SHARED_DIR: '/s' }),
    ).toThrow(/DATABASE_URL is not a postgres/)
    expect(() =>
      configFromEnv({
        DATABASE_URL: db,
        REDIS_URL: redis,
        CLINIC_SHARED_DIR: '/s',
        CLINIC_AUDIT_SCHEMA: 'x; drop',
      }),
    ).toThrow(ClinicConfigError)
  })

  it('prints URLs without credentials', () => {
    expect(redactUrl(db)).toBe('postgres://db.internal:5432/clinic')
    expect(redactUrl(redis)).toBe('redis://cache.internal:6379')
  })

  it('the server process exits 2 with the reason for one URL without the other', () => {
    const r = spawnSync(
      process.execPath,
      ['--import', 'tsx', '--conditions=@safeguards/source', 'src/server.ts'],
      {
        cwd: join(import.meta.dirname, '..'),
        encoding: 'utf8',
        timeout: 30_000,
        env: { ...process.env, DATABASE_URL: db, REDIS_URL: '' },
      },
    )
    expect(r.status).toBe(2)
    expect(r.stderr).toContain('DATABASE_URL is set but REDIS_URL is not')
    expect(r.stderr).not.toContain('s3cret')
  }, 35_000)
})

describe('demoShared', () => {
  it('embedded with neither, shared with both, an error with one', () => {
    expect(demoShared({})).toBeNull()
    expect(demoShared({ DATABASE_URL: db, REDIS_URL: redis })).toEqual({ databaseUrl: db, redisUrl: redis })
    expect(() => demoShared({ REDIS_URL: redis })).toThrow(DemoConfigError)
  })

  it('the walkthrough exits 2 with the reason for one URL without the other', () => {
    let status = 0
    let stderr = ''
    try {
      execFileSync(process.execPath, ['--import', 'tsx', '--conditions=@safeguards/source', 'src/demo.ts'], {
        cwd: join(import.meta.dirname, '..'),
        encoding: 'utf8',
        timeout: 30_000,
        stdio: 'pipe',
        env: { ...process.env, DATABASE_URL: '', REDIS_URL: redis },
      })
    } catch (e) {
      status = (e as { status: number }).status
      stderr = String((e as { stderr: string }).stderr)
    }
    expect(status).toBe(2)
    expect(stderr).toContain('REDIS_URL is set but DATABASE_URL is not')
  }, 35_000)
})

describe('loadOrCreateSecrets', () => {
  it('creates the file once (mode 0600); a second instance reads the same secrets', async () => {
    const dir = temp()
    const [one, two] = await Promise.all([
      loadOrCreateSecrets(dir, STAFF_USERNAMES, {}),
      loadOrCreateSecrets(dir, STAFF_USERNAMES, {}),
    ])
    expect([one.created, two.created].filter(Boolean).length).toBe(1)
    expect(two.secrets.staff).toEqual(one.secrets.staff)
    expect(two.secrets.checkpointKey.publicJwk).toEqual(one.secrets.checkpointKey.publicJwk)
    expect(two.secrets.keyringSecret).toBe(one.secrets.keyringSecret)
    expect(statSync(join(dir, 'secrets.json')).mode & 0o777).toBe(0o600)
    const third = await loadOrCreateSecrets(dir, STAFF_USERNAMES, {})
    expect(third.created).toBe(false)
    expect(third.secrets.pseudonymKey).toEqual(one.secrets.pseudonymKey)
  })

  it('adds credentials for users seeded since the file was written, keeping everything else', async () => {
    // A data directory from a release before the privacy officer existed.
    const dir = temp()
    const older = STAFF_USERNAMES.filter((u) => u !== 'pia.privacy')
    const before = await loadOrCreateSecrets(dir, older, {})
    const text = readFileSync(join(dir, 'secrets.json'), 'utf8')
    const [one, two] = await Promise.all([
      loadOrCreateSecrets(dir, STAFF_USERNAMES, {}),
      loadOrCreateSecrets(dir, STAFF_USERNAMES, {}),
    ])
    for (const r of [one, two]) {
      expect(r.created).toBe(false)
      expect(r.secrets.staff['pia.privacy']?.password).toEqual(expect.any(String))
      expect(r.secrets.pseudonymKey).toEqual(before.secrets.pseudonymKey)
      expect(r.secrets.keyringSecret).toBe(before.secrets.keyringSecret)
      for (const u of older) expect(r.secrets.staff[u]).toEqual(before.secrets.staff[u])
    }
    // Two instances starting at once agree on the new user's credentials: one wrote them.
    expect(two.secrets.staff['pia.privacy']).toEqual(one.secrets.staff['pia.privacy'])
    const after = JSON.parse(readFileSync(join(dir, 'secrets.json'), 'utf8'))
    expect(after.staff['pia.privacy']).toEqual(one.secrets.staff['pia.privacy'])
    expect({ ...after, staff: undefined }).toEqual({ ...JSON.parse(text), staff: undefined })
    expect(statSync(join(dir, 'secrets.json')).mode & 0o777).toBe(0o600)
  })

  it('takes secrets from the environment and does not write them to the file', async () => {
    const dir = temp()
    const key = await generateCheckpointKey()
    const env = {
      CLINIC_CHECKPOINT_KEY: JSON.stringify(key.privateJwk),
      CLINIC_PSEUDONYM_KEY: Buffer.alloc(32, 7).toString('base64'),
    }
    const r = await loadOrCreateSecrets(dir, STAFF_USERNAMES, env)
    expect(r.sources).toEqual({ checkpointKey: 'env', pseudonymKey: 'env', keyringSecret: 'file' })
    expect(r.secrets.checkpointKey.publicJwk.x).toBe(key.publicJwk.x)
    expect(r.secrets.checkpointKey.publicJwk.d).toBeUndefined()
    const text = readFileSync(join(dir, 'secrets.json'), 'utf8')
    expect(text).not.toContain(key.privateJwk.d as string)
    expect(text).not.toContain('checkpointPrivateJwk')
    // An instance without the variable finds neither: a clear error, not a different key.
    await expect(loadOrCreateSecrets(dir, STAFF_USERNAMES, {})).rejects.toThrow(
      /CLINIC_CHECKPOINT_KEY is neither set/,
    )
    await expect(
      loadOrCreateSecrets(temp(), STAFF_USERNAMES, { CLINIC_PSEUDONYM_KEY: 'c2hvcnQ=' }),
    ).rejects.toThrow(/at least 32 bytes/)
  })
})
