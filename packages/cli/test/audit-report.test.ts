import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import { runCli } from '../src/index.js'
import { fakeIO } from './helpers.js'

const dirs: string[] = []
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true })
})

async function run(argv: string[], stdin: string, cwd: string) {
  const f = fakeIO(stdin)
  f.io.cwd = cwd
  const code = await runCli(argv, f.io)
  return { code, out: f.stdout(), err: f.stderr() }
}

const EHR = { observer: 'ehr-api' }
/** Chart reads of two patients by three users; the emergency read of Patient/=7 is by n2. */
function events(): string {
  const lines = []
  for (let i = 0; i < 12; i++) {
    const who = `Practitioner/n${i % 3}`
    const patient = i % 2 === 0 ? 'Patient/=7' : 'Patient/8'
    const purpose = i === 4 ? ['TREAT', 'BTG'] : ['TREAT']
    lines.push(
      JSON.stringify({
        type: 'rest',
        subtype: ['read'],
        action: i === 6 ? 'U' : 'R',
        outcome: i === 8 ? 8 : 0,
        agents: [{ who, requestor: true, type: 'humanuser', role: ['nurse'], purposeOfUse: purpose }],
        source: EHR,
        patient,
      }),
    )
  }
  return `${lines.join('\n')}\n`
}

async function setup() {
  const dir = mkdtempSync(join(tmpdir(), 'sg-cli-report-'))
  dirs.push(dir)
  const kg = await run(['audit', 'keygen', '--out', 'key.jwk'], '', dir)
  writeFileSync(join(dir, 'pub.jwk'), kg.out)
  const ap = await run(
    ['audit', 'append', '--log', 'log', '--key', 'key.jwk', '--checkpoint-every', '100'],
    events(),
    dir,
  )
  expect(ap.code).toBe(0)
  return dir
}

describe('safeguards audit report', () => {
  it('lists every access to one patient as JSON, the same with --scan, and records the run in the log', async () => {
    const dir = await setup()
    const r = await run(
      ['audit', 'report', '--log', 'log', '--patient', 'Patient/=7', '--json', '--by', 'Practitioner/po1'],
      '',
      dir,
    )
    expect(r.code).toBe(0)
    const report = JSON.parse(r.out)
    expect(report.size).toBe(12)
    expect(report.recordedAs).toBe(12)
    expect(report.rows.map((x: { seq: number }) => x.seq)).toEqual([0, 2, 4, 6, 8, 10])
    expect(report.rows[2]).toMatchObject({
      who: 'Practitioner/n1',
      emergency: true,
      purposeOfUse: ['TREAT', 'BTG'],
    })
    expect(report.rows[3]).toMatchObject({ action: 'U', role: ['nurse'], interaction: ['read'] })
    expect(report.rows[4]).toMatchObject({ outcome: 8 })
    // the run was recorded: it names the patient and who ran it, so the next report lists it too
    const again = JSON.parse(
      (await run(['audit', 'report', '--log', 'log', '--patient', 'Patient/=7', '--json', '--scan'], '', dir))
        .out,
    )
    expect(again.rows.map((x: { seq: number }) => x.seq)).toEqual([0, 2, 4, 6, 8, 10, 12])
    expect(again.rows[6]).toMatchObject({ who: 'Practitioner/po1', type: '110112', action: 'E' })
    expect(again.recordedAs).toBe(13)
    const { recordedAs: _a, ...first } = report
    const scanned = JSON.parse(
      (
        await run(
          [
            'audit',
            'report',
            '--log',
            'log',
            '--patient',
            'Patient/=7',
            '--json',
            '--scan',
            '--to',
            '2099-01-01',
          ],
          '',
          dir,
        )
      ).out,
    )
    expect(scanned.rows.slice(0, 6)).toEqual(first.rows)
  })

  it('--prove: every row carries a proof that check-proof accepts, against the newest signed checkpoint', async () => {
    const dir = await setup()
    const r = await run(
      ['audit', 'report', '--log', 'log', '--who', 'Practitioner/n2', '--json', '--prove'],
      '',
      dir,
    )
    expect(r.code).toBe(0)
    const report = JSON.parse(r.out)
    expect(report.checkpoint.size).toBe(12)
    expect(report.rows.map((x: { seq: number }) => x.seq)).toEqual([2, 5, 8, 11])
    for (const row of report.rows) {
      writeFileSync(join(dir, 'p.json'), JSON.stringify(row.proof))
      const c = await run(['audit', 'check-proof', '--proof', 'p.json', '--public-key', 'pub.jwk'], '', dir)
      expect(c.code).toBe(0)
      expect(c.out).toContain(`valid: record ${row.seq}`)
    }
  })

  it('CSV defuses spreadsheet formulas; the table names what it covers; FHIR is a Bundle of AuditEvents', async () => {
    const dir = await setup()
    const csv = await run(['audit', 'report', '--log', 'log', '--patient', 'Patient/=7', '--csv'], '', dir)
    expect(csv.code).toBe(0)
    const lines = csv.out.trim().split('\n')
    expect(lines[0]).toBe(
      'seq,time,recorded,who,role,type,action,interaction,outcome,patient,purpose_of_use,emergency',
    )
    expect(lines).toHaveLength(7)
    expect(lines[3]).toMatch(/^4,.*,Practitioner\/n1,nurse,rest,R,read,0,Patient\/=7,TREAT BTG,yes$/)
    const text = await run(['audit', 'report', '--log', 'log', '--patient', 'Patient/8'], '', dir)
    expect(text.out.split('\n')[0]).toMatch(
      /^access report for patient Patient\/8 in log: 6 rows, complete through \d+ records/,
    )
    const fhir = JSON.parse(
      (await run(['audit', 'report', '--log', 'log', '--patient', 'Patient/8', '--fhir'], '', dir)).out,
    )
    expect(fhir.resourceType).toBe('Bundle')
    // six chart reads and the text report's own run, which named the patient
    expect(fhir.entry).toHaveLength(7)
    expect(fhir.entry[0].resource.resourceType).toBe('AuditEvent')
    expect(fhir.entry[6].resource.type.code).toBe('110112')
  })

  it('usage errors exit 2 and print nothing; --prove on a log without a checkpoint is a usage error', async () => {
    const dir = await setup()
    for (const args of [
      [],
      ['--patient', 'Patient/8', '--json', '--csv'],
      ['--patient', 'Patient/8', '--prove'],
      ['--patient', 'Patient/8', '--from', 'last tuesday'],
      ['--patient', 'Patient/8', '--frm', '2026-01-01'],
    ]) {
      const r = await run(['audit', 'report', '--log', 'log', ...args], '', dir)
      expect(r.code, args.join(' ')).toBe(2)
      if (args.includes('--json')) expect(JSON.parse(r.out)).toMatchObject({ ok: false })
      else expect(r.out).toBe('')
    }
    const bare = mkdtempSync(join(tmpdir(), 'sg-cli-report-'))
    dirs.push(bare)
    await run(['audit', 'append', '--log', 'log'], events(), bare)
    const r = await run(
      ['audit', 'report', '--log', 'log', '--patient', 'Patient/8', '--json', '--prove'],
      '',
      bare,
    )
    expect(r.code).toBe(2)
    expect(r.err).toContain('no signed checkpoint')
  })
})
