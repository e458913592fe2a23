import { manualClock } from '@safeguards/core'
import fc from 'fast-check'
import { exportJWK, generateKeyPair } from 'jose'
import { describe, expect, it } from 'vitest'
import {
  type BackupVerifyInput,
  buildEvidenceReport,
  EvidenceError,
  type EvidenceInputs,
  renderEvidenceMarkdown,
  signEvidence,
  verifyEvidence,
} from '../src/index.js'

const now = new Date('2026-11-22T12:00:00.000Z')
const clock = manualClock(now.getTime())
const day = 86_400_000

function backup(over: Partial<BackupVerifyInput> = {}): BackupVerifyInput {
  return {
    status: 'ok',
    exitCode: 0,
    finishedAt: '2026-11-22T11:59:00.000Z',
    bag: { bagId: 'bag-1', backupSetId: 'nightly', payloadFiles: 3, payloadBytes: 1200, encrypted: true },
    attestation: {
      verified: true,
      kid: 'backup-2026',
      seq: 7,
      createdAt: '2026-11-21T12:00:00.000Z',
      sha256: 'ab'.repeat(32),
    },
    findings: [],
    coverage: { filesVerified: 3, filesTotal: 3 },
    ...over,
  }
}

function inputs(over: Partial<EvidenceInputs> = {}): EvidenceInputs {
  return {
    clock,
    auditLog: {
      verifiedAt: now,
      report: {
        ok: true,
        stream: 'ehr',
        records: 42,
        checkpoints: { total: 2, verified: 2 },
        anchoredThrough: 39,
        checkpointedThrough: 41,
        findings: [],
      },
    },
    backups: [backup()],
    keyring: {
      name: 'clinic',
      sealed: true,
      keys: [
        {
          keyRef: 'local:clinic:v2',
          version: 2,
          state: 'primary',
          createdAt: now.getTime() - 10 * day,
          usage: { wraps: 5n, limit: 1n << 32n },
        },
        {
          keyRef: 'local:clinic:v1',
          version: 1,
          state: 'decrypt-only',
          createdAt: now.getTime() - 400 * day,
        },
      ],
    },
    sessionPolicy: {
      defaults: { idleTimeoutMs: 900_000, absoluteTimeoutMs: 43_200_000 },
      roles: { nurse: { idleTimeoutMs: 300_000, absoluteTimeoutMs: 28_800_000 } },
      maxSessionsPerUser: 5,
      onSessionLimit: 'evict-oldest',
    },
    passwordPolicy: {
      minLength: 15,
      maxLength: 128,
      maxBytes: 1024,
      mfa: false,
      basis: 'NIST SP 800-63B rev 4',
    },
    ...over,
  }
}

async function keys(kid = 'evidence-1') {
  const { privateKey, publicKey } = await generateKeyPair('Ed25519', { extractable: true })
  return { priv: { ...(await exportJWK(privateKey)), kid }, pub: { ...(await exportJWK(publicKey)), kid } }
}

describe('buildEvidenceReport', () => {
  it('gathers every section with ages, sequence numbers and key refs', () => {
    const r = buildEvidenceReport(inputs())
    expect(r.ok).toBe(true)
    expect(r.failures).toEqual([])
    expect(r.generatedAt).toBe('2026-11-22T12:00:00.000Z')
    expect(r.auditLog).toMatchObject({
      ok: true,
      stream: 'ehr',
      records: 42,
      verifiedThroughSeq: 41,
      anchoredThroughSeq: 39,
    })
    expect(r.backups[0]).toMatchObject({
      ok: true,
      bagId: 'bag-1',
      signed: true,
      signingKid: 'backup-2026',
      attestationSeq: 7,
      ageMs: day,
    })
    expect(r.keys?.primary).toBe('local:clinic:v2')
    expect(r.keys?.versions.map((v) => [v.version, v.ageMs, v.wraps])).toEqual([
      [1, 400 * day, null],
      [2, 10 * day, '5'],
    ])
    expect(r.sessionPolicy?.roles.nurse?.idleTimeoutMs).toBe(300_000)
    expect(r.passwordPolicy?.minLength).toBe(15)
  })

  it('fails each check on its own evidence and keeps only codes and seq numbers', () => {
    const r = buildEvidenceReport(
      inputs({
        auditLog: {
          verifiedAt: now,
          report: {
            ok: false,
            stream: 'ehr',
            records: 42,
            checkpoints: { total: 2, verified: 1 },
            anchoredThrough: null,
            checkpointedThrough: null,
            findings: [
              { seq: 17, code: 'HASH_MISMATCH', severity: 'error', message: 'patient Jane Doe' } as never,
            ],
          },
        },
        backups: [
          backup(),
          backup({
            status: 'failed',
            exitCode: 1,
            findings: [{ code: 'CHANGED', severity: 'error', path: 'data/jane-doe-chart.pdf' } as never],
          }),
        ],
        maxKeyAgeMs: 365 * day,
      }),
    )
    expect(r.ok).toBe(false)
    expect(r.failures).toEqual(['audit-log', 'backups', 'keys'])
    expect(r.auditLog?.verifiedThroughSeq).toBe(16)
    const text = JSON.stringify(r) + renderEvidenceMarkdown(r)
    expect(text).not.toMatch(/jane/i)
    expect(text).toContain('HASH_MISMATCH')
    expect(text).toContain('CHANGED')
  })

  it('fails the key check without a primary, and omits sections not examined', () => {
    const r = buildEvidenceReport({
      clock,
      keyring: {
        name: 'k',
        sealed: false,
        keys: [{ keyRef: 'local:k:v1', version: 1, state: 'decrypt-only' }],
      },
    })
    expect(r.failures).toEqual(['keys'])
    expect(r.auditLog).toBeNull()
    expect(r.backups).toEqual([])
    expect(r.sessionPolicy).toBeNull()
    expect(r.activityReview).toBeNull()
    expect(renderEvidenceMarkdown(r)).toContain('Not examined.')
  })

  it('reports the newest activity review: never run, or when, what it covered and its findings by detector', () => {
    expect(buildEvidenceReport({ clock, activityReview: null }).activityReview).toEqual({ ran: false })
    const ranAt = new Date(clock.now() - 3_600_000)
    const r = buildEvidenceReport({
      clock,
      activityReview: {
        ranAt,
        seq: 120,
        from: 0,
        through: 120,
        logSize: 120,
        findings: { 'bulk-access': 1, 'denied-burst': 2 },
      },
    })
    expect(r.activityReview).toEqual({
      ran: true,
      ranAt: ranAt.toISOString(),
      ageMs: 3_600_000,
      seq: 120,
      from: 0,
      through: 120,
      logSize: 120,
      findings: { 'bulk-access': 1, 'denied-burst': 2 },
      totalFindings: 3,
    })
    const md = renderEvidenceMarkdown(r)
    expect(md).toContain('## Activity review (164.308(a)(1)(ii)(D))')
    expect(md).toContain('- Reviewed records 0 to 119 of 120')
    expect(md).toContain('- Findings of that run: 3 (`bulk-access` 1, `denied-burst` 2)')
    expect(() =>
      buildEvidenceReport({
        clock,
        activityReview: { ...r.activityReview, ranAt: new Date(Number.NaN) } as never,
      }),
    ).toThrow(EvidenceError)
  })

  it('adds the open findings of a findings store by detector, sorted, to the activity-review section', () => {
    const open = { 'password-spray': 1, 'bulk-access': 2 }
    const none = buildEvidenceReport({ clock, activityReview: null, openFindings: open })
    expect(none.activityReview).toEqual({
      ran: false,
      openFindings: { 'bulk-access': 2, 'password-spray': 1 },
      totalOpenFindings: 3,
    })
    expect(Object.keys(none.activityReview as object)).toEqual(['ran', 'openFindings', 'totalOpenFindings'])
    expect(renderEvidenceMarkdown(none)).toContain(
      '- Open findings (not yet acknowledged or suppressed): 3 (`bulk-access` 2, `password-spray` 1)',
    )
    const ranAt = new Date(clock.now() - 60_000)
    const review = { ranAt, seq: 9, from: 0, through: 9, logSize: 9, findings: {} }
    const r = buildEvidenceReport({ clock, activityReview: review, openFindings: {} })
    expect(r.activityReview).toMatchObject({
      ran: true,
      totalFindings: 0,
      openFindings: {},
      totalOpenFindings: 0,
    })
    expect(renderEvidenceMarkdown(r)).toContain('- Open findings (not yet acknowledged or suppressed): 0\n')
    expect(buildEvidenceReport({ clock, openFindings: open }).activityReview).toBeNull() // log not examined
  })

  it('rejects an invalid clock', () => {
    expect(() => buildEvidenceReport({ clock: { now: () => Number.NaN } })).toThrow(EvidenceError)
  })

  it('dates the report with the system clock by default', () => {
    const before = Date.now()
    const r = buildEvidenceReport({})
    expect(Date.parse(r.generatedAt)).toBeGreaterThanOrEqual(before)
    expect(Date.parse(r.generatedAt)).toBeLessThanOrEqual(Date.now())
  })
})

describe('signEvidence / verifyEvidence', () => {
  it('signs canonical JSON with EdDSA and kid, and verifies', async () => {
    const { priv, pub } = await keys()
    const report = buildEvidenceReport(inputs())
    const jws = await signEvidence(report, priv)
    const header = JSON.parse(new TextDecoder().decode(Buffer.from(jws.split('.')[0] as string, 'base64url')))
    expect(header).toEqual({ alg: 'EdDSA', typ: 'safeguards-evidence+jws', kid: 'evidence-1' })
    const v = await verifyEvidence(jws, pub)
    expect(v.valid).toBe(true)
    if (v.valid) {
      expect(v.kid).toBe('evidence-1')
      expect(v.report).toEqual(report)
    }
  })

  it('refuses a tampered payload, a wrong key, a wrong kid and junk', async () => {
    const { priv, pub } = await keys()
    const other = await keys('other')
    const jws = await signEvidence(buildEvidenceReport(inputs()), priv)
    const [h, p, s] = jws.split('.') as [string, string, string]
    const payload = Buffer.from(p, 'base64url').toString('utf8').replace('"ok":true', '"ok":fals')
    const forged = `${h}.${Buffer.from(payload.replace('"records":42', '"records":43')).toString('base64url')}.${s}`
    expect(await verifyEvidence(forged, pub)).toEqual({ valid: false, reason: 'signature' })
    expect((await verifyEvidence(jws, { ...other.pub, kid: 'evidence-1' })).valid).toBe(false)
    expect(await verifyEvidence(jws, other.pub)).toEqual({ valid: false, reason: 'signature' })
    expect(await verifyEvidence(jws, { ...pub, kid: 'rotated' })).toEqual({ valid: false, reason: 'kid' })
    expect(await verifyEvidence('not a jws', pub)).toEqual({ valid: false, reason: 'malformed' })
    await fc.assert(
      fc.asyncProperty(fc.nat({ max: jws.length - 1 }), fc.constantFrom('A', 'B', '_', '-'), async (i, c) => {
        const mutated = jws.slice(0, i) + c + jws.slice(i + 1)
        fc.pre(mutated !== jws && jws[i] !== '.')
        const v = await verifyEvidence(mutated, pub)
        // Base64url's last character can carry unused bits: the decoded bytes may be unchanged.
        if (v.valid) expect(v.report).toEqual(JSON.parse(Buffer.from(p, 'base64url').toString('utf8')))
      }),
      { numRuns: 40 },
    )
  })

  it('refuses a non-canonical payload even when correctly signed', async () => {
    const { priv, pub } = await keys()
    const { CompactSign, importJWK } = await import('jose')
    const jws = await new CompactSign(new TextEncoder().encode('{"schemaVersion":1, "ok":true}'))
      .setProtectedHeader({ alg: 'EdDSA', typ: 'safeguards-evidence+jws', kid: 'evidence-1' })
      .sign(await importJWK(priv, 'EdDSA'))
    expect(await verifyEvidence(jws, pub)).toEqual({ valid: false, reason: 'not-canonical' })
  })

  it('throws typed errors for unusable keys', async () => {
    const { priv, pub } = await keys()
    const report = buildEvidenceReport(inputs())
    await expect(signEvidence(report, pub)).rejects.toThrow(EvidenceError)
    await expect(signEvidence(report, { ...priv, kid: undefined } as never)).rejects.toThrow(/kid/)
    await expect(signEvidence(report, { kty: 'EC', crv: 'P-256' } as never, 'k')).rejects.toThrow(
      EvidenceError,
    )
    await expect(verifyEvidence('a.b.c', { kty: 'oct', k: 'AA' })).rejects.toThrow(EvidenceError)
  })
})

describe('renderEvidenceMarkdown', () => {
  it('states the facts an auditor looks for', () => {
    const md = renderEvidenceMarkdown(buildEvidenceReport(inputs()))
    expect(md).toContain('Result: **PASS**')
    expect(md).toContain('42 records; verified through seq 41')
    expect(md).toContain('anchored through seq 39')
    expect(md).toContain(
      '| bag-1 | nightly | ok | 3/3 | 1200 | yes | backup-2026 | 7 | 2026-11-21T12:00:00.000Z | 1 d |',
    )
    expect(md).toContain('| local:clinic:v1 | decrypt-only |')
    expect(md).toContain('400 d')
    expect(md).toContain('idle 15 min, absolute 12 h')
    expect(md).toContain('Role `nurse`: idle 5 min')
    expect(md).toContain('15 to 128 characters')
  })

  it('escapes table and code markup in names', () => {
    const md = renderEvidenceMarkdown(
      buildEvidenceReport(inputs({ backups: [backup({ bag: { ...backup().bag, bagId: 'a|b\n# x' } })] })),
    )
    expect(md).toContain('| a\\|b # x |')
    expect(md).not.toContain('\n# x')
  })
})
