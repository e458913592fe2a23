import { spawn } from 'node:child_process'
import { cpSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import { cleanup, dirs, failedSignIn, run, setup, T0 } from './review-log.js'

afterEach(cleanup)

describe('safeguards audit review', () => {
  it('prints one line per finding and exits 1 on a finding at or above --fail-on (default high)', async () => {
    const dir = await setup()
    const r = await run(['audit', 'review', '--log', 'log'], '', dir)
    expect(r.code).toBe(1)
    const lines = r.out.trim().split('\n')
    expect(lines[0]).toMatch(
      /^high\tpassword-spray\tfnd_[a-z2-7]{32}\t203\.0\.113\.9\t12\tseqs 0,1,2,3,4,5,6,7,8,9,10,11$/,
    )
    expect(lines[1]).toMatch(
      /^medium\tfailed-sign-in-burst\tfnd_[a-z2-7]{32}\tPractitioner\/2\t5\tseqs 12,13,14,15,16$/,
    )
    expect(lines[2]).toBe('2 findings, 0 damaged records, over 20 records (seqs 0–19)')
    expect((await run(['audit', 'review', '--log', 'log', '--fail-on', 'critical'], '', dir)).code).toBe(0)
    expect((await run(['audit', 'review', '--log', 'log', '--from', '12'], '', dir)).code).toBe(0) // medium only
    expect(
      (await run(['audit', 'review', '--log', 'log', '--from', '12', '--fail-on', 'medium'], '', dir)).code,
    ).toBe(1)
  })

  it('--json is the result, byte-identical on every run; --since and --rules', async () => {
    const dir = await setup()
    // each run is recorded in the log it reviewed, so the second run reviews a copy of the same bytes
    cpSync(join(dir, 'log'), join(dir, 'copy'), { recursive: true })
    const a = await run(['audit', 'review', '--log', 'log', '--json'], '', dir)
    const b = await run(['audit', 'review', '--log', 'copy', '--json'], '', dir)
    expect(a.out).toBe(b.out)
    const doc = JSON.parse(a.out)
    expect(doc).toMatchObject({ records: 20, firstSeq: 0, lastSeq: 19, problems: [] })
    expect(doc.findings.map((f: { detector: string }) => f.detector)).toEqual([
      'password-spray',
      'failed-sign-in-burst',
    ])
    const since = await run(
      ['audit', 'review', '--log', 'log', '--json', '--since', new Date(T0 + 120_000).toISOString()],
      '',
      dir,
    )
    expect(JSON.parse(since.out).findings.map((f: { detector: string }) => f.detector)).toEqual([
      'failed-sign-in-burst',
    ])
    writeFileSync(join(dir, 'rules.yaml'), 'detectors:\n  password-spray: { enabled: false }\n')
    const tuned = await run(['audit', 'review', '--log', 'log', '--rules', 'rules.yaml'], '', dir)
    expect(tuned.code).toBe(0)
    expect(tuned.out).toMatch(/^medium\tfailed-sign-in-burst\t/)
  })

  it('--prove: an inclusion proof of every cited record that check-proof accepts; later ones unproven', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'sg-cli-review-'))
    dirs.push(dir)
    const kg = await run(['audit', 'keygen', '--out', 'key.jwk'], '', dir)
    writeFileSync(join(dir, 'pub.jwk'), kg.out)
    const spray = Array.from({ length: 12 }, (_, i) => failedSignIn(`acct-${i}`, '203.0.113.9', i))
    const signed = await run(
      ['audit', 'append', '--log', 'log', '--key', 'key.jwk'],
      `${spray.join('\n')}\n`,
      dir,
    )
    expect(signed.code).toBe(0)
    const late = Array.from({ length: 3 }, (_, i) => failedSignIn(`acct-${12 + i}`, '203.0.113.9', 12 + i))
    expect((await run(['audit', 'append', '--log', 'log'], `${late.join('\n')}\n`, dir)).code).toBe(0)
    const r = await run(['audit', 'review', '--log', 'log', '--json', '--prove'], '', dir)
    expect(r.code).toBe(1)
    const doc = JSON.parse(r.out)
    expect(doc.findings[0].seqs).toEqual(Array.from({ length: 15 }, (_, i) => i))
    expect(doc.proofs.bundles.map((b: { seq: number }) => b.seq)).toEqual(
      Array.from({ length: 12 }, (_, i) => i),
    )
    expect(doc.proofs.unproven).toEqual([12, 13, 14])
    writeFileSync(join(dir, 'p.json'), JSON.stringify(doc.proofs.bundles[7]))
    const check = await run(['audit', 'check-proof', '--proof', 'p.json', '--public-key', 'pub.jwk'], '', dir)
    expect(check.code).toBe(0)
    expect((await run(['audit', 'review', '--log', 'log', '--prove'], '', dir)).code).toBe(2) // needs --json
  })

  it('a damaged record is listed as verify lists it, the review goes on, exit 1', async () => {
    const dir = await setup()
    const segs = join(dir, 'log', 'segments')
    const file = join(segs, readdirSync(segs).sort()[0] as string)
    const lines = readFileSync(file, 'utf8').split('\n')
    lines[3] = (lines[3] as string).replace('"outcome":4', '"outcome":#') // same length, no longer JSON
    writeFileSync(file, lines.join('\n'))
    const r = await run(['audit', 'review', '--log', 'log', '--fail-on', 'critical'], '', dir)
    expect(r.code).toBe(1)
    expect(r.out.split('\n')[0]).toBe('error\tseq 3\tMALFORMED\tthe record does not parse')
    expect(r.out).toMatch(/\tpassword-spray\t.*\t11\tseqs 0,1,2,4,/)
  })

  it('--follow reports episodes as the log grows, until SIGTERM; then the summary and the exit code', async () => {
    const dir = await setup()
    const bin = resolve(import.meta.dirname, '../src/bin.ts')
    const findings = ['--findings', join(dir, 'findings'), '--alert-stderr']
    const argv = ['audit', 'review', '--log', join(dir, 'log'), '--follow', ...findings]
    const child = spawn(
      process.execPath,
      ['--conditions=@safeguards/source', '--import', 'tsx', bin, ...argv],
      {
        cwd: resolve(import.meta.dirname, '../../..'), // tsx resolves from the repository
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    )
    let out = ''
    let err = ''
    child.stdout.on('data', (d: Buffer) => {
      out += d.toString()
    })
    child.stderr.on('data', (d: Buffer) => {
      err += d.toString()
    })
    const exited = new Promise<number | null>((res) => child.on('exit', (code) => res(code)))
    const until = async (re: RegExp) => {
      for (let i = 0; i < 400 && !re.test(out); i++) await new Promise((r) => setTimeout(r, 50))
      expect(out, err).toMatch(re)
    }
    await until(/^open\thigh\tpassword-spray\tfnd_/m)
    const more = Array.from({ length: 5 }, (_, i) => failedSignIn('Practitioner/9', '10.0.0.9', 40 + i))
    expect((await run(['audit', 'append', '--log', 'log'], `${more.join('\n')}\n`, dir)).code).toBe(0)
    await until(/^open\tmedium\tfailed-sign-in-burst\tfnd_\w+\tPractitioner\/9\t5\tseqs 20,21,22,23,24$/m)
    child.kill('SIGTERM')
    expect(await exited).toBe(1) // the spray is high
    const batch = await run(['audit', 'review', '--log', 'log'], '', dir)
    const closed = out.split('\n').filter((l) => /^(high|medium|low|critical)\t/.test(l))
    expect(closed.sort()).toEqual(
      batch.out
        .split('\n')
        .filter((l) => /^(high|medium|low|critical)\t/.test(l))
        .sort(),
    )
    expect(out).toMatch(/^3 findings \(3 new\), 0 damaged records, over 25 records \(seqs 0–24\)$/m)
    // each episode was admitted and alerted once, when it opened; a batch run then finds nothing new
    expect(err.match(/^safeguards audit review: alert /gm)).toHaveLength(3)
    const again = await run(
      ['audit', 'review', '--log', 'log', '--findings', 'findings', '--alert-stderr'],
      '',
      dir,
    )
    expect(again.out).toMatch(/^3 findings \(0 new\)/m)
    expect(again.err).not.toContain('alert ')
  }, 25_000)

  it('exit 2: a rules file that does not validate names its pointer; bad options; an unreadable log', async () => {
    const dir = await setup()
    writeFileSync(join(dir, 'bad.json'), '{"detectors":{"bulk-access":{"threshold":0}}}')
    const bad = await run(['audit', 'review', '--log', 'log', '--rules', 'bad.json'], '', dir)
    expect(bad.code).toBe(2)
    expect(bad.err).toContain('/detectors/bulk-access/threshold')
    for (const argv of [
      ['--fail-on', 'urgent'],
      ['--since', 'yesterday'],
      ['--from', '1', '--since', '2026-03-02T12:00:00Z'],
      ['--rules', 'missing.json'],
      ['--follow', '--json'],
      ['--json', '--prove'], // no checkpoint in this log
    ])
      expect((await run(['audit', 'review', '--log', 'log', ...argv], '', dir)).code, argv.join(' ')).toBe(2)
    expect((await run(['audit', 'review', '--log', 'nowhere'], '', dir)).code).toBe(2)
  })
})
