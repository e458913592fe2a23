/** `safeguards keys shred --subject ID`: the two-step confirmation, exit codes, file and PostgreSQL stores. */
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import {
  createSubjectEnvelope,
  createSubjectKeys,
  fileSubjectKeyStore,
  LocalKeyring,
} from '@safeguards/envelope'
import { migrateSubjectKeys, openPostgresSubjectKeyStore } from '@safeguards/envelope-postgres'
import pg from 'pg'
import { afterAll, describe, expect, it } from 'vitest'
import { runCli } from '../src/index.js'
import { fakeIO } from './helpers.js'

const dir = mkdtempSync(join(tmpdir(), 'sg-cli-shred-'))
afterAll(() => rmSync(dir, { recursive: true, force: true }))
const DATABASE_URL = process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test'

async function cli(argv: string[]) {
  const f = fakeIO()
  const code = await runCli(argv, { ...f.io, cwd: dir })
  return { code, stdout: f.stdout(), stderr: f.stderr() }
}

const enc = (s: string) => new TextEncoder().encode(s)

describe('safeguards keys shred', () => {
  it('asks first (exit 2, a token), refuses a wrong token, then shreds for good', async () => {
    expect((await cli(['keys', 'init', '--keyring', 'k.json'])).code).toBe(0)
    const kek = await LocalKeyring.open(join(dir, 'k.json'))
    const store = join(dir, 'subjects.json')
    const env = createSubjectEnvelope({
      subjects: createSubjectKeys({ kek, store: fileSubjectKeyStore(store) }),
    })
    const ct = await env.encrypt('MRN-1', enc('x'), {})
    const other = await env.encrypt('MRN-2', enc('y'), {})
    const base = ['keys', 'shred', '--keyring', 'k.json', '--subject-keys', 'subjects.json']

    const ask = await cli([...base, '--subject', 'MRN-1'])
    expect(ask.code).toBe(2)
    expect(ask.stdout).toContain('(active)')
    expect(ask.stdout).not.toContain('MRN-1')
    const token = /--confirm (shred-[0-9a-f]{12})/.exec(ask.stdout)?.[1] as string
    expect(token).toBeDefined()
    expect(ask.stderr).toContain('confirmation required')
    expect(dec(await env.decrypt(ct, {}))).toBe('x') // step 1 changed nothing

    // the token of one subject does not shred another
    const wrong = await cli([...base, '--subject', 'MRN-2', '--confirm', token])
    expect(wrong.code).toBe(2)
    expect(wrong.stderr).toContain('does not match')
    expect(dec(await env.decrypt(other, {}))).toBe('y')

    const done = await cli([...base, '--subject', 'MRN-1', '--confirm', token])
    expect(done.code).toBe(0)
    expect(done.stdout).toMatch(/^subject key subject:[A-Za-z0-9_-]{22}@v1 shredded \(destroyed\)\n$/)
    const reader = createSubjectEnvelope({
      subjects: createSubjectKeys({ kek, store: fileSubjectKeyStore(store), cacheTtlMs: 0 }),
    })
    await expect(reader.decrypt(ct, {})).rejects.toMatchObject({ code: 'ERR_SUBJECT_SHREDDED' })
    expect(dec(await reader.decrypt(other, {}))).toBe('y')

    // scripts: --json for both steps; shredding again reports it
    const again = await cli([...base, '--subject', 'MRN-1', '--json'])
    expect(again.code).toBe(2)
    const doc = JSON.parse(again.stdout)
    expect(doc).toMatchObject({ status: 'shredded', shredded: false, confirm: token })
    const second = await cli([...base, '--subject', 'MRN-1', '--confirm', doc.confirm, '--json'])
    expect(JSON.parse(second.stdout)).toMatchObject({ shredded: true, outcome: 'already-shredded' })
  })

  it('needs --subject and --subject-keys', async () => {
    expect(
      (await cli(['keys', 'shred', '--keyring', 'k.json', '--subject-keys', 'subjects.json'])).code,
    ).toBe(2)
    expect((await cli(['keys', 'shred', '--keyring', 'k.json', '--subject', 'MRN-1'])).code).toBe(2)
    expect(
      (await cli(['keys', 'shred', '--keyring', 'k.json', '--subject-keys', 's.json', '--subject', ''])).code,
    ).toBe(2)
  })

  it('shreds in a PostgreSQL store named by a postgres:// URL', async () => {
    const probe = new pg.Pool({ connectionString: DATABASE_URL, max: 1 })
    const up = await probe.query('SELECT 1').then(
      () => true,
      () => false,
    )
    if (!up) {
      await probe.end()
      if (process.env.CI === 'true') throw new Error('PostgreSQL unreachable')
      return
    }
    const schema = `sg_cli_shred_${process.pid}_${Math.random().toString(16).slice(2, 10)}`
    try {
      await migrateSubjectKeys(probe, { schema })
      const kek = await LocalKeyring.open(join(dir, 'k.json'))
      const store = await openPostgresSubjectKeyStore({ pool: probe, schema })
      const env = createSubjectEnvelope({ subjects: createSubjectKeys({ kek, store, cacheTtlMs: 0 }) })
      const ct = await env.encrypt('MRN-9', enc('z'), {})
      const url = `${DATABASE_URL}?schema=${schema}`
      const base = ['keys', 'shred', '--keyring', 'k.json', '--subject-keys', url, '--subject', 'MRN-9']
      const ask = await cli([...base, '--json'])
      expect(ask.code).toBe(2)
      const { confirm } = JSON.parse(ask.stdout)
      expect((await cli([...base, '--confirm', confirm])).code).toBe(0)
      await expect(env.decrypt(ct, {})).rejects.toMatchObject({ code: 'ERR_SUBJECT_SHREDDED' })
    } finally {
      await probe.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`)
      await probe.end()
    }
  })
})

function dec(b: Uint8Array): string {
  return new TextDecoder().decode(b)
}
