/**
 * `safeguards audit … --log postgres://…?stream=NAME` against the real PostgreSQL server, in a schema
 * of this run's own (unique name, dropped afterwards).
 */

import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import pg from 'pg'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { DATABASE_URL, pgAvailable, uniqueName } from '../../audit-log-postgres/test/pg-harness.js'
import { runCli } from '../src/index.js'
import { auditEvent, fakeIO } from './helpers.js'

const ev = auditEvent

describe.skipIf(!pgAvailable)('safeguards audit with a postgres:// log', () => {
  const schema = uniqueName('sg_cli_pg')
  let admin: pg.Pool
  let dir: string
  const logUrl = (stream: string, extra = ''): string => {
    const url = new URL(DATABASE_URL)
    url.searchParams.set('stream', stream)
    url.searchParams.set('schema', schema)
    return `${url.toString()}${extra}`
  }
  async function run(argv: string[], stdin = '') {
    const f = fakeIO(stdin)
    f.io.cwd = dir
    const code = await runCli(argv, f.io)
    return { code, out: f.stdout(), err: f.stderr() }
  }

  beforeAll(async () => {
    admin = new pg.Pool({ connectionString: DATABASE_URL, max: 2 })
    dir = mkdtempSync(join(tmpdir(), 'sg-cli-pg-'))
    const kg = await run(['audit', 'keygen', '--out', 'key.jwk'])
    expect(kg.code).toBe(0)
    writeFileSync(join(dir, 'pub.jwk'), kg.out)
  })
  afterAll(async () => {
    await admin?.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`)
    await admin?.end()
    if (dir) rmSync(dir, { recursive: true, force: true })
  })

  it('refuses an unmigrated schema and a URL without a stream (exit 2)', async () => {
    const un = await run(['audit', 'append', '--log', logUrl('ehr')], `${ev(0)}\n`)
    expect(un.code).toBe(2)
    expect(un.err).toContain('ERR_AUDIT_PG_MIGRATION')
    const nostream = await run(['audit', 'verify', '--log', DATABASE_URL, '--public-key', 'pub.jwk'])
    expect(nostream.code).toBe(2)
    expect(nostream.err).toContain('stream')
    expect(nostream.err).not.toContain('postgres://')
  })

  it('append (migrate=true), verify, prove, checkpoint and export on PostgreSQL', async () => {
    const events = Array.from({ length: 10 }, (_, i) => ev(i)).join('\n')
    const ap = await run(
      [
        'audit',
        'append',
        '--log',
        logUrl('ehr', '&migrate=true'),
        '--key',
        'key.jwk',
        '--anchor',
        'anchor',
        '--checkpoint-every',
        '4',
      ],
      `${events}\n`,
    )
    expect(ap.err).toBe('')
    expect(ap.code).toBe(0)
    expect(ap.out.trim().split('\n')).toEqual(Array.from({ length: 10 }, (_, i) => String(i)))
    const { rows } = await admin.query(
      `SELECT count(*)::int AS n FROM "${schema}".audit_checkpoint WHERE stream = 'ehr'`,
    )
    expect(rows[0].n).toBeGreaterThanOrEqual(1)

    const v = await run([
      'audit',
      'verify',
      '--log',
      logUrl('ehr'),
      '--anchor',
      'anchor',
      '--public-key',
      'pub.jwk',
      '--json',
    ])
    expect(v.code).toBe(0)
    expect(JSON.parse(v.out)).toMatchObject({ ok: true, records: 10, findings: [], anchoredThrough: 9 })

    const p = await run(['audit', 'prove', '--log', logUrl('ehr'), '--seq', '4'])
    expect(p.code).toBe(0)
    writeFileSync(join(dir, 'proof.json'), p.out)
    const c = await run(['audit', 'check-proof', '--proof', 'proof.json', '--public-key', 'pub.jwk'])
    expect(c.code).toBe(0)

    expect((await run(['audit', 'checkpoint', '--log', logUrl('ehr'), '--key', 'key.jwk'])).code).toBe(0)
    const e = await run(['audit', 'export', '--log', logUrl('ehr'), '--format', 'fhir-r4'])
    expect(e.code).toBe(0)
    expect(e.out.trim().split('\n')).toHaveLength(10)

    // --stream names the stream when the URL has none
    const url = new URL(DATABASE_URL)
    url.searchParams.set('schema', schema)
    const more = await run(['audit', 'append', '--log', url.toString(), '--stream', 'ehr'], `${ev(10)}\n`)
    expect(more.code).toBe(0)
    expect(more.out).toBe('10\n')
  })

  it('verify exits 1 and names the record a superuser rewrote in SQL', async () => {
    await run(
      ['audit', 'append', '--log', logUrl('tamper'), '--key', 'key.jwk', '--checkpoint-every', '3'],
      `${Array.from({ length: 8 }, (_, i) => ev(i)).join('\n')}\n`,
    )
    const client = await admin.connect()
    try {
      await client.query('BEGIN')
      await client.query('SET LOCAL session_replication_role = replica')
      await client.query(
        `UPDATE "${schema}".audit_entry
            SET body = convert_to(replace(convert_from(body, 'UTF8'), 'Patient/5', 'Patient/6'), 'UTF8'),
                entry_hash = sha256('\\x00'::bytea || convert_to(replace(convert_from(body, 'UTF8'), 'Patient/5', 'Patient/6'), 'UTF8'))
          WHERE stream = 'tamper' AND seq = 5`,
      )
      await client.query('COMMIT')
    } finally {
      client.release()
    }
    const v = await run(['audit', 'verify', '--log', logUrl('tamper'), '--public-key', 'pub.jwk', '--json'])
    expect(v.code).toBe(1)
    const report = JSON.parse(v.out)
    expect(report.ok).toBe(false)
    expect(report.findings[0]).toMatchObject({ seq: 5 })
    const human = await run(['audit', 'verify', '--log', logUrl('tamper'), '--public-key', 'pub.jwk'])
    expect(human.code).toBe(1)
    expect(human.out).toContain('seq 5\t')
  })

  it('verify of a stream that does not exist is an error, not an empty success', async () => {
    const v = await run(['audit', 'verify', '--log', logUrl('nobody'), '--public-key', 'pub.jwk'])
    expect(v.code).toBe(74) // ERR_AUDIT_STORE, category io
    expect(v.err).toContain('does not exist')
    const { rowCount } = await admin.query(`SELECT 1 FROM "${schema}".audit_stream WHERE stream = 'nobody'`)
    expect(rowCount).toBe(0)
  })
})
