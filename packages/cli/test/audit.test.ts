import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import { runCli } from '../src/index.js'
import { auditEvent, fakeIO, filesIn, words } from './helpers.js'

const dirs: string[] = []
function tempDir(): string {
  const d = mkdtempSync(join(tmpdir(), 'sg-cli-audit-'))
  dirs.push(d)
  return d
}
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true })
})

const ev = auditEvent
/** `audit verify` of the log `setup` writes, with its anchor and key. */
const VERIFY_ANCHORED = words`audit verify --log log --anchor anchor --public-key pub.jwk`

async function run(argv: string[], stdin = '', cwd?: string) {
  const f = fakeIO(stdin)
  if (cwd !== undefined) f.io.cwd = cwd
  const code = await runCli(argv, f.io)
  return { code, out: f.stdout(), err: f.stderr() }
}

async function setup(n: number) {
  const dir = tempDir()
  const kg = await run(['audit', 'keygen', '--out', 'key.jwk'], '', dir)
  expect(kg.code).toBe(0)
  writeFileSync(join(dir, 'pub.jwk'), kg.out)
  const events = Array.from({ length: n }, (_, i) => ev(i)).join('\n')
  const ap = await run(
    ['audit', 'append', '--log', 'log', '--key', 'key.jwk', '--anchor', 'anchor', '--checkpoint-every', '4'],
    `${events}\n`,
    dir,
  )
  expect(ap.err).toBe('')
  expect(ap.code).toBe(0)
  expect(ap.out.trim().split('\n')).toEqual(Array.from({ length: n }, (_, i) => String(i)))
  return dir
}

describe('safeguards audit', () => {
  it('append then verify: exit 0, --json shape, summary', async () => {
    const dir = await setup(10)
    const v = await run([...VERIFY_ANCHORED, '--json'], '', dir)
    expect(v.code).toBe(0)
    const report = JSON.parse(v.out)
    expect(report).toMatchObject({ ok: true, records: 10, findings: [] })
    expect(report.anchoredThrough).toBe(9)
    const h = await run([...VERIFY_ANCHORED], '', dir)
    expect(h.code).toBe(0)
    expect(h.out).toMatch(
      /^OK: 10 records verified, \d+\/\d+ checkpoints verified, anchored through seq 9\n$/,
    )
  })

  it('verify: exit 1 with the first finding at the tampered record', async () => {
    const dir = await setup(8)
    const seg = join(dir, 'log', 'segments', `${'0'.repeat(20)}.jsonl`)
    const lines = readFileSync(seg, 'utf8').split('\n')
    lines[3] = lines[3]!.replace('Patient/3', 'Patient/9')
    writeFileSync(seg, lines.join('\n'))
    const v = await run([...VERIFY_ANCHORED, '--json'], '', dir)
    expect(v.code).toBe(1)
    const report = JSON.parse(v.out)
    expect(report.ok).toBe(false)
    expect(report.findings[0]).toMatchObject({ seq: 3, code: 'HASH_MISMATCH' })
    const h = await run(['audit', 'verify', '--log', 'log', '--public-key', 'pub.jwk'], '', dir)
    expect(h.code).toBe(1)
    expect(h.out).toContain('seq 3\tHASH_MISMATCH')
    expect(h.out).toMatch(/FAILED: 8 records verified/)
    // on worker threads: the same report
    for (const workers of ['0', '2', 'auto']) {
      const t = await run(
        ['audit', 'verify', '--log', 'log', '--public-key', 'pub.jwk', '--workers', workers],
        '',
        dir,
      )
      expect({ code: t.code, out: t.out }).toEqual({ code: 1, out: h.out })
    }
    expect(
      (
        await run(
          ['audit', 'verify', '--log', 'log', '--public-key', 'pub.jwk', '--workers', 'many'],
          '',
          dir,
        )
      ).code,
    ).toBe(2)
  })

  it('verify without --public-key is a usage error, unless --no-signatures opts out', async () => {
    const dir = await setup(6)
    const base = ['audit', 'verify', '--log', 'log', '--anchor', 'anchor']
    const forgot = await run(base, '', dir)
    expect(forgot.code).toBe(2)
    expect(forgot.err).toContain('--public-key')
    expect(forgot.err).toContain('--no-signatures')
    expect(forgot.out).toBe('')
    const both = await run([...base, '--public-key', 'pub.jwk', '--no-signatures'], '', dir)
    expect(both.code).toBe(2)
    const optedOut = await run([...base, '--no-signatures'], '', dir)
    expect(optedOut.code).toBe(0)
    expect(optedOut.out).toContain('CHECKPOINT_UNVERIFIED')
    expect(optedOut.out).toMatch(/^OK: 6 records verified, signatures not checked \(--no-signatures\), .*$/m)
    const json = JSON.parse((await run([...base, '--no-signatures', '--json'], '', dir)).out)
    expect(json.findings).toEqual([
      expect.objectContaining({ code: 'CHECKPOINT_UNVERIFIED', severity: 'warning' }),
    ])
    expect(json.checkpoints.verified).toBe(0)
  })

  it('verify --anchor: a missing directory is a usage error, an empty one an integrity failure', async () => {
    const dir = await setup(6)
    const base = ['audit', 'verify', '--log', 'log', '--public-key', 'pub.jwk']
    const typo = await run([...base, '--anchor', 'anchr'], '', dir)
    expect(typo.code).toBe(2)
    expect(typo.err).toContain('--anchor')
    expect(typo.out).toBe('')
    writeFileSync(join(dir, 'a-file'), '')
    expect((await run([...base, '--anchor', 'a-file'], '', dir)).code).toBe(2)
    mkdirSync(join(dir, 'wiped'))
    const wiped = await run([...base, '--anchor', 'wiped', '--json'], '', dir)
    expect(wiped.code).toBe(1)
    expect(JSON.parse(wiped.out).findings[0]).toMatchObject({ code: 'ANCHOR_EMPTY', severity: 'error' })
  })

  it('usage errors exit 2, I/O errors 74 (the global table)', async () => {
    const dir = tempDir()
    expect((await run(['audit', 'verify'], '', dir)).code).toBe(2)
    expect((await run(['audit', 'frobnicate'], '', dir)).code).toBe(2)
    const pg = await run(
      ['audit', 'verify', '--log', 'postgres://localhost/db?stream=s', '--no-signatures'],
      '',
      dir,
    )
    expect(pg.code).toBe(74) // the store cannot be opened: ERR_AUDIT_STORE, category io
    expect(pg.err).toContain('audit-log-postgres')
    const missing = await run(['audit', 'verify', '--log', 'nope', '--no-signatures'], '', dir)
    expect(missing.code).toBe(74)
    expect(missing.err).toContain('ERR_AUDIT_STORE')
  })

  it('append stops at a bad line with exit 2, keeping the lines before it', async () => {
    const dir = tempDir()
    const bad = '{"type":"rest","type":"login","action":"R","outcome":0}'
    const r = await run(['audit', 'append', '--log', 'log'], `${ev(0)}\n${ev(1)}\n${bad}\n${ev(3)}\n`, dir)
    expect(r.code).toBe(2)
    expect(r.out).toBe('0\n1\n')
    expect(r.err).toContain('line 3')
    expect(r.err).toContain('ERR_AUDIT_NON_CANONICAL')
    const v = await run(['audit', 'verify', '--log', 'log', '--no-signatures', '--json'], '', dir)
    expect(JSON.parse(v.out).records).toBe(2)
  })

  it('keygen never replaces an existing key: exit 2, the old key intact, no temporary file', async () => {
    const dir = tempDir()
    expect((await run(['audit', 'keygen', '--out', 'key.jwk'], '', dir)).code).toBe(0)
    expect(statSync(join(dir, 'key.jwk')).mode & 0o777).toBe(0o600)
    const before = readFileSync(join(dir, 'key.jwk'))
    const again = await run(['audit', 'keygen', '--out', 'key.jwk'], '', dir)
    expect(again.code).toBe(2)
    expect(again.err).toBe('safeguards audit: cannot write --out (EEXIST)\n')
    expect(again.out).toBe('')
    expect(Buffer.compare(readFileSync(join(dir, 'key.jwk')), before)).toBe(0)
    expect(filesIn(dir)).toEqual(['key.jwk'])
  })

  it('append checkpoints only a grown log: an invalid first line writes and anchors nothing', async () => {
    const dir = tempDir()
    expect((await run(['audit', 'keygen', '--out', 'key.jwk'], '', dir)).code).toBe(0)
    const args = ['audit', 'append', '--log', 'log', '--key', 'key.jwk', '--anchor', 'anchor']
    const bad = await run([...args, '--checkpoint-every', '5'], '{"type":"rest"}\n', dir)
    expect(bad.code).toBe(2)
    expect(existsSync(join(dir, 'log', 'checkpoints.jsonl'))).toBe(false)
    expect(existsSync(join(dir, 'anchor', 'log'))).toBe(false)
    const lines = (from: number, n: number) =>
      `${Array.from({ length: n }, (_, i) => ev(from + i)).join('\n')}\n`
    expect((await run([...args, '--checkpoint-every', '5'], lines(0, 5), dir)).code).toBe(0)
    expect((await run([...args, '--checkpoint-every', '5'], lines(5, 7), dir)).code).toBe(0)
    expect((await run([...args, '--checkpoint-every', '5'], '', dir)).code).toBe(0)
    const sizes = () =>
      readFileSync(join(dir, 'log', 'checkpoints.jsonl'), 'utf8')
        .trim()
        .split('\n')
        .map((l) => JSON.parse(l).size)
    // batches decide where the checkpoints in between fall; sizes only ever grow
    const seen = sizes()
    expect(seen[0]).toBe(5)
    expect(seen.at(-1)).toBe(12)
    for (let i = 1; i < seen.length; i++) expect(seen[i]).toBeGreaterThan(seen[i - 1])
    const cp = await run(
      ['audit', 'checkpoint', '--log', 'log', '--key', 'key.jwk', '--anchor', 'anchor'],
      '',
      dir,
    )
    expect(cp.code).toBe(0)
    expect(cp.out).toMatch(/unchanged since the checkpoint of 12 records/)
    expect(sizes()).toEqual(seen)
  })

  it('prove --from-size/--to-size and check-proof: a consistency proof between two checkpoints', async () => {
    const dir = await setup(4)
    const more = (from: number, n: number) =>
      run(
        ['audit', 'append', '--log', 'log', '--key', 'key.jwk', '--anchor', 'anchor'],
        `${Array.from({ length: n }, (_, i) => ev(from + i)).join('\n')}\n`,
        dir,
      )
    expect((await more(4, 4)).code).toBe(0)
    expect((await more(8, 2)).code).toBe(0) // checkpoints of 4, 8 and 10 records
    const prove = (...a: string[]) => run(['audit', 'prove', '--log', 'log', ...a], '', dir)
    const check = async (bundle: unknown) => {
      writeFileSync(join(dir, 'c.json'), JSON.stringify(bundle))
      return run(['audit', 'check-proof', '--proof', 'c.json', '--public-key', 'pub.jwk'], '', dir)
    }
    const p = await prove('--from-size', '4', '--to-size', '10')
    expect(p.code).toBe(0)
    const bundle = JSON.parse(p.out)
    expect(bundle).toMatchObject({
      typ: 'safeguards.audit-consistency-proof',
      v: 1,
      stream: 'log',
      from: { size: 4 },
      to: { size: 10 },
    })
    const ok = await check(bundle)
    expect(ok.code).toBe(0)
    const { kid } = JSON.parse(readFileSync(join(dir, 'pub.jwk'), 'utf8'))
    expect(ok.out).toBe(
      `valid: the checkpoint of 10 records of log extends the checkpoint of 4 records (signed by ${kid})\n`,
    )
    // --to-size defaults to the newest checkpoint; equal sizes prove with an empty path
    expect(JSON.parse((await prove('--from-size', '8')).out).to.size).toBe(10)
    expect(JSON.parse((await prove('--from-size', '8', '--to-size', '8')).out).proof).toEqual([])
    // forged bundles fail with exit 1
    const flipped = bundle.proof.map((h: string, i: number) =>
      i === 0 ? h.replace(/^./, h[0] === 'A' ? 'B' : 'A') : h,
    )
    for (const forged of [
      { ...bundle, from: bundle.to, to: bundle.from },
      { ...bundle, proof: flipped },
      { ...bundle, from: { ...bundle.from, size: 5 } },
    ]) {
      const r = await check(forged)
      expect(r.code, JSON.stringify(forged).slice(0, 80)).toBe(1)
      expect(r.err).toContain('invalid')
    }
    // usage: no checkpoint of that size, sizes in the wrong order, both or neither of --seq/--from-size
    for (const args of [
      ['--from-size', '5'],
      ['--from-size', '8', '--to-size', '4'],
      ['--from-size', '0'],
      ['--from-size', '4', '--to-size', '9'],
      ['--seq', '1', '--from-size', '4'],
      ['--to-size', '8'],
      [],
    ]) {
      const r = await prove(...args)
      expect(r.code, args.join(' ')).toBe(2)
      expect(r.out).toBe('')
    }
    expect((await prove('--from-size', '5')).err).toContain('4, 8, 10')
  })

  it('prove and check-proof, checkpoint, export fhir-r4', async () => {
    const dir = await setup(6)
    const p = await run(['audit', 'prove', '--log', 'log', '--seq', '4'], '', dir)
    expect(p.code).toBe(0)
    writeFileSync(join(dir, 'proof.json'), p.out)
    const c = await run(['audit', 'check-proof', '--proof', 'proof.json', '--public-key', 'pub.jwk'], '', dir)
    expect(c.code).toBe(0)
    expect(c.out).toContain('valid: record 4')
    const forged = JSON.parse(p.out)
    forged.record = forged.record.replace('Patient/4', 'Patient/5')
    writeFileSync(join(dir, 'forged.json'), JSON.stringify(forged))
    const f = await run(
      ['audit', 'check-proof', '--proof', 'forged.json', '--public-key', 'pub.jwk'],
      '',
      dir,
    )
    expect(f.code).toBe(1)
    expect((await run(['audit', 'prove', '--log', 'log', '--seq', '99'], '', dir)).code).toBe(2)
    const cp = await run(['audit', 'checkpoint', '--log', 'log', '--key', 'key.jwk'], '', dir)
    expect(cp.code).toBe(0)
    const e = await run(['audit', 'export', '--log', 'log', '--format', 'fhir-r4'], '', dir)
    expect(e.code).toBe(0)
    const resources = e.out
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l))
    expect(resources).toHaveLength(6)
    expect(resources[0]).toMatchObject({ resourceType: 'AuditEvent', action: 'R', outcome: '0' })
    const b = await run(
      ['audit', 'export', '--log', 'log', '--format', 'fhir-r4', '--bundle', '--from', '2', '--to', '4'],
      '',
      dir,
    )
    expect(JSON.parse(b.out).entry).toHaveLength(2)
  })
})
