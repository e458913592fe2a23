import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { runCli } from '../src/index.js'
import { fakeIO, words } from './helpers.js'

const dir = mkdtempSync(join(tmpdir(), 'sg-access-'))
afterAll(() => rmSync(dir, { recursive: true, force: true }))
const clinicFile = resolve(import.meta.dirname, '../../rbac/test/fixtures/clinic.policy.json')
const clinic = JSON.parse(readFileSync(clinicFile, 'utf8'))

function file(name: string, content: unknown): string {
  const p = join(dir, name)
  writeFileSync(p, typeof content === 'string' ? content : JSON.stringify(content))
  return p
}

async function run(...argv: string[]) {
  const f = fakeIO()
  f.io.cwd = dir
  const code = await runCli(['access', ...argv], f.io)
  return { code, out: f.stdout(), err: f.stderr() }
}

const nurse = { id: 'u-nurse', tenant: 'clinic-a', roles: ['charge_nurse'] }
const readObs = (patient = 'p-1', extra: Record<string, unknown> = {}) => ({
  subject: nurse,
  action: 'read',
  resource: { type: 'Observation', tenant: 'clinic-a', patient },
  relationships: { careTeam: patient === 'p-1' },
  ...extra,
})

describe('safeguards access lint', () => {
  it('exit 0 for a valid JSON or YAML policy', async () => {
    const r = await run('lint', '--policy', clinicFile)
    expect(r.code).toBe(0)
    expect(r.out).toMatch(/ok: .*valid \(8 roles, 11 rules\)/)
    const yaml = file(
      'p.yaml',
      'version: 1\nroles: [{ id: nurse }]\nrules:\n  - { id: r, effect: allow, roles: [nurse], actions: [read], resources: ["*"] }\n',
    )
    expect((await run('lint', '--policy', yaml)).code).toBe(0)
  })

  it('exit 1 listing every problem with its JSON path', async () => {
    const bad = structuredClone(clinic)
    bad.rules[0].effect = 'Deny'
    bad.rules[1].priority = 3
    bad.roles[2].inherits = ['charge_nurse']
    const r = await run('lint', '--policy', file('bad.json', bad))
    expect(r.code).toBe(1)
    expect(r.out).toContain('/rules/0/effect: ')
    expect(r.out).toContain('/rules/1/priority: unknown key "priority" [unknown_key]')
    expect(r.err).toContain('2 problem(s)')
    const cyc = structuredClone(clinic)
    cyc.roles[2].inherits = ['charge_nurse']
    const c = await run('lint', '--policy', file('cycle.json', cyc))
    expect(c.code).toBe(1)
    expect(c.out).toContain('role inheritance cycle: nurse → charge_nurse → nurse')
    const j = await run('lint', '--policy', file('bad2.json', bad), '--json')
    expect(j.code).toBe(1)
    expect(JSON.parse(j.out)).toMatchObject({
      valid: false,
      problems: [{ path: '/rules/0/effect' }, { path: '/rules/1/priority' }],
    })
    expect(JSON.parse((await run('lint', '--policy', clinicFile, '--json')).out)).toEqual({
      valid: true,
      problems: [],
    })
  })

  it('exit 1 for syntax errors; exit 74 for a missing file; exit 2 for a missing option', async () => {
    const s = await run('lint', '--policy', file('dup.json', '{"version":1,"version":1}'))
    expect(s.code).toBe(1)
    expect(s.out).toContain('(root)')
    const m = await run('lint', '--policy', join(dir, 'nope.json'))
    expect(m.code).toBe(74)
    expect(m.err).toContain(`cannot read --policy ${join(dir, 'nope.json')} (ENOENT)`)
    expect((await run('lint')).code).toBe(2)
    expect((await run('lint', '--policy', clinicFile, '--bogus')).code).toBe(2)
  })
})

describe('safeguards access explain', () => {
  it('prints an allow as JSON, exit 0', async () => {
    const r = await run('explain', '--policy', clinicFile, '--request', JSON.stringify(readObs()))
    expect(r.code).toBe(0)
    expect(JSON.parse(r.out)).toMatchObject({
      allowed: true,
      reason: 'allow',
      rules: [{ id: 'nurse-read-clinical', via: [['charge_nurse', 'nurse']] }],
    })
  })

  it('prints a deny with its reason, exit 0; the request may come from @FILE', async () => {
    const f = file(
      'req.json',
      readObs('p-1', {
        resource: { type: 'Observation', tenant: 'clinic-a', patient: 'p-1', labels: ['psychotherapy'] },
      }),
    )
    const r = await run('explain', '--policy', clinicFile, '--request', `@${f}`)
    expect(r.code).toBe(0)
    expect(JSON.parse(r.out)).toMatchObject({
      allowed: false,
      reason: 'sensitivity_label',
      labels: [{ label: 'psychotherapy' }],
    })
    const unanswered = { ...readObs(), relationships: {} }
    const u = JSON.parse(
      (await run('explain', '--policy', clinicFile, '--request', JSON.stringify(unanswered))).out,
    )
    expect(u).toMatchObject({
      allowed: false,
      errors: [{ rule: 'nurse-read-clinical', code: 'resolver_failed' }],
    })
  })

  it('honours --now (time windows) and --grants (emergency access)', async () => {
    const fd = {
      subject: { id: 'u-fd', tenant: 'clinic-a', roles: ['front_desk'] },
      action: 'create',
      resource: { type: 'Appointment', tenant: 'clinic-a' },
    }
    const at = async (now: string) =>
      JSON.parse(
        (await run('explain', '--policy', clinicFile, '--request', JSON.stringify(fd), '--now', now)).out,
      ).allowed
    expect(await at('2026-11-23T10:00:00Z')).toBe(true)
    expect(await at('2026-11-22T10:00:00Z')).toBe(false) // Sunday
    const t0 = Date.parse('2026-11-23T10:00:00Z')
    const grants = file('grants.json', [
      {
        id: 'g-1',
        subject: 'u-nurse',
        tenant: 'clinic-a',
        patient: 'p-2',
        actions: ['read'],
        resources: ['Observation'],
        reasonCode: 'clinical-emergency',
        justification: 'Unresponsive patient in the emergency department.',
        issuedAt: t0,
        expiresAt: t0 + 30 * 60_000,
      },
    ])
    const req = JSON.stringify(readObs('p-2', { emergencyAccess: 'g-1' }))
    const explainAt = (now: string) =>
      run(...words`explain --policy ${clinicFile} --request ${req} --grants ${grants} --now ${now}`)
    const ok = await explainAt('2026-11-23T10:29:59Z')
    expect(JSON.parse(ok.out)).toMatchObject({
      allowed: true,
      reason: 'emergency_access',
      obligations: [{ id: 'audit:emergency-access', grant: 'g-1' }],
    })
    const late = await explainAt('2026-11-23T10:30:00Z')
    expect(JSON.parse(late.out)).toMatchObject({ allowed: false, emergencyAccess: { status: 'expired' } })
  })

  it('applies SMART scopes given with the request', async () => {
    const req = readObs('p-1', { scopes: { scope: 'patient/Condition.rs', patient: 'p-1' } })
    const r = await run('explain', '--policy', clinicFile, '--request', JSON.stringify(req))
    expect(JSON.parse(r.out)).toMatchObject({ allowed: false, reason: 'scope_exceeded' })
    const bad = readObs('p-1', { scopes: { scope: 'patient/Condition.dus' } })
    expect((await run('explain', '--policy', clinicFile, '--request', JSON.stringify(bad))).code).toBe(2)
  })

  it.each([
    ['malformed JSON', ['--request', '{"subject":']],
    ['a request that is not an object', ['--request', '[1]']],
    ['an ill-formed request', ['--request', JSON.stringify({ subject: { id: 'u' }, action: 'read' })]],
    [
      'non-boolean relationships',
      ['--request', JSON.stringify({ ...readObs(), relationships: { careTeam: 'yes' } })],
    ],
    ['a bad --now', ['--request', JSON.stringify(readObs()), '--now', 'yesterday']],
    ['no --request', []],
    ['malformed grants', ['--request', JSON.stringify(readObs()), '--grants', file('g.json', [{ id: 1 }])]],
  ])('exit 2 on %s', async (_name, args) => {
    const r = await run('explain', '--policy', clinicFile, ...(args as string[]))
    expect(r.code).toBe(2)
    expect(r.out).toBe('')
  })

  it('exit 74 on a missing request file, naming it', async () => {
    const r = await run('explain', '--policy', clinicFile, '--request', '@/nonexistent/req.json')
    expect(r.code).toBe(74)
    expect(r.err).toBe('safeguards access: cannot read --request /nonexistent/req.json (ENOENT) (ERR_IO)\n')
    expect(r.out).toBe('')
  })

  it('exit 2 for an invalid policy, with its problems on stderr', async () => {
    const r = await run(
      'explain',
      '--policy',
      file('inv.json', { version: 1, roles: [], rules: [], x: 1 }),
      '--request',
      '{}',
    )
    expect(r.code).toBe(2)
    expect(r.err).toContain('/x: unknown key')
  })
})

describe('safeguards access test', () => {
  const cases = [
    {
      name: 'nurse reads vitals of a care-team patient',
      request: readObs(),
      expect: { allowed: true, rules: ['nurse-read-clinical'] },
    },
    {
      name: 'nurse outside the care team',
      request: readObs('p-2'),
      expect: { allowed: false, reason: 'no_matching_allow' },
    },
    {
      name: 'nobody deletes the audit trail',
      request: {
        subject: { id: 'u-a', tenant: 'clinic-a', roles: ['auditor'] },
        action: 'delete',
        resource: { type: 'AuditEvent', tenant: 'clinic-a' },
      },
      expect: {
        allowed: false,
        reason: 'explicit_deny',
        rules: ['audit-trail-is-append-only'],
        obligations: [],
      },
    },
    {
      name: 'front desk schedules on a weekday',
      now: '2026-11-23T09:00:00Z',
      request: {
        subject: { id: 'u-fd', tenant: 'clinic-a', roles: ['front_desk'] },
        action: 'create',
        resource: { type: 'Appointment', tenant: 'clinic-a' },
      },
      expect: { allowed: true },
    },
  ]

  it('exit 0 when every case passes (array or { cases })', async () => {
    const r = await run('test', '--policy', clinicFile, '--cases', file('cases.json', cases))
    expect(r.code).toBe(0)
    expect(r.out).toContain('4 passed, 0 failed')
    expect((await run('test', '--policy', clinicFile, '--cases', file('cases2.json', { cases }))).code).toBe(
      0,
    )
  })

  it('exit 1 on any mismatch, showing which case failed and why', async () => {
    const wrong = [
      ...cases,
      {
        name: 'billing reads observations',
        request: { ...readObs(), subject: { id: 'u-b', tenant: 'clinic-a', roles: ['billing'] } },
        expect: { allowed: true },
      },
      { name: 'wrong rule', request: readObs(), expect: { allowed: true, rules: ['physician-chart'] } },
    ]
    const r = await run('test', '--policy', clinicFile, '--cases', file('wrong.json', wrong))
    expect(r.code).toBe(1)
    expect(r.out).toContain('FAIL billing reads observations')
    expect(r.out).toContain('expected allowed=true, got false (reason no_matching_allow)')
    expect(r.out).toContain('expected rules [physician-chart], got [nurse-read-clinical]')
    expect(r.out).toContain('4 passed, 2 failed')
    const j = JSON.parse(
      (await run('test', '--policy', clinicFile, '--cases', file('wrong.json', wrong), '--json')).out,
    )
    expect(j).toMatchObject({ passed: 4, failed: 2 })
    expect(j.cases[4]).toMatchObject({ name: 'billing reads observations', passed: false })
  })

  it.each([
    ['an empty list', []],
    ['a case with an unknown key', [{ ...cases[0], expected: true }]],
    ['a case without expect.allowed', [{ name: 'x', request: readObs(), expect: {} }]],
    ['an unknown expectation', [{ name: 'x', request: readObs(), expect: { allowed: true, why: 'x' } }]],
    ['rules that are not ids', [{ name: 'x', request: readObs(), expect: { allowed: true, rules: [1] } }]],
    ['an ill-formed request', [{ name: 'x', request: { action: 'read' }, expect: { allowed: false } }]],
    ['a bad now', [{ ...cases[0], now: 'soon' }]],
  ])('exit 2 for %s', async (_name, content) => {
    expect((await run('test', '--policy', clinicFile, '--cases', file('c.json', content))).code).toBe(2)
  })

  it('exit 2 for an unknown subcommand', async () => {
    expect((await run('grant')).code).toBe(2)
    expect((await run()).code).toBe(2)
  })
})
