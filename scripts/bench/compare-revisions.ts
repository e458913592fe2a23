/**
 * Before/after for the hot paths (issue 15: a redesign must not cost more than 5% on them): the
 * same operation from two checkouts of this repository, in one process, in alternating rounds.
 *
 *   git worktree add --detach ../base <rev> && (cd ../base && node scripts/sg.mjs install)
 *   npx tsx --conditions=@safeguards/source scripts/bench/compare-revisions.ts ../base [rounds]
 *
 * Each checkout's packages are loaded from its own `src` (the `@safeguards/source` condition), so
 * both sides run the code as written at their revision, with the same inputs. Paths: envelope
 * encrypt/decrypt of 1 KiB with and without the data-key cache (format v1 on both sides, so the
 * comparison is the code, not the format; the v2 default is listed as well), rbac decide on the
 * bench policy, session validate on the memory store. The figure is the median of the per-round
 * rates, and after/before is also given as the median of per-round ratios (robust to drift).
 */
import { randomBytes } from 'node:crypto'
import { loadavg } from 'node:os'
import { resolve } from 'node:path'
import { pathToFileURL } from 'node:url'

type Op = () => unknown
interface Path {
  name: string
  before: Op
  after: Op
}

const head = resolve(import.meta.dirname, '../..')
const baseArg = process.argv[2]
if (baseArg === undefined) {
  process.stderr.write('usage: compare-revisions.ts BASE_CHECKOUT [rounds]\n')
  process.exit(2)
}
const base = resolve(baseArg)
const rounds = Number(process.argv[3] ?? 20)
const ROUND_MS = 250

const load = async (root: string, rel: string): Promise<Record<string, unknown>> =>
  (await import(pathToFileURL(resolve(root, rel)).href)) as Record<string, unknown>

// biome-ignore lint/suspicious/noExplicitAny: two revisions' APIs, loaded dynamically
type Any = any

const record = new Uint8Array(randomBytes(1024))
const context = { table: 'patients', column: 'notes', tenant: 'clinic-7' }
const CACHE = { maxAge: 300_000, maxMessages: 65_536, maxBytes: 2 ** 32, maxEntries: 1000 }

async function envelopeOps(root: string, version?: 1 | 2): Promise<Record<string, Op>> {
  const m: Any = await load(root, 'packages/envelope/src/index.ts')
  const opts = version === undefined ? {} : { formatVersion: version }
  const plain = m.createEnvelope({ provider: await m.LocalKeyring.inMemory(), ...opts })
  const cached = m.createEnvelope({
    provider: await m.LocalKeyring.inMemory(),
    dataKeyCache: CACHE,
    ...opts,
  })
  const ct = await plain.encrypt(record, context)
  const cts: Uint8Array[] = []
  for (let i = 0; i < 256; i++) cts.push(await cached.encrypt(record, context))
  let i = 0
  return {
    encrypt: () => plain.encrypt(record, context),
    decrypt: () => plain.decrypt(ct, context),
    'encrypt, cached': () => cached.encrypt(record, context),
    'decrypt, cached': () => cached.decrypt(cts[i++ & 255], context),
  }
}

async function rbacOp(root: string): Promise<Op> {
  const m: Any = await load(root, 'packages/rbac/src/index.ts')
  const f: Any = await load(root, 'packages/rbac/bench/fixture.ts')
  const data = f.benchData()
  const pdp = m.compilePolicy(data.policy)
  const mask = data.requests.length - 1
  let i = 0
  return () => pdp.decide(data.requests[i++ & mask]).allowed
}

async function sessionOp(root: string): Promise<Op> {
  const m: Any = await load(root, 'packages/session/src/index.ts')
  const sessions = m.createSessionManager()
  const { token } = await sessions.create('u-bench')
  return () => sessions.validate(token)
}

async function paths(): Promise<Path[]> {
  const out: Path[] = []
  const [eb, eh, ehv2] = [await envelopeOps(base), await envelopeOps(head, 1), await envelopeOps(head)]
  for (const k of Object.keys(eb)) {
    out.push({ name: `envelope ${k} 1 KiB (v1 both)`, before: eb[k] as Op, after: eh[k] as Op })
    out.push({ name: `envelope ${k} 1 KiB (after: v2 default)`, before: eb[k] as Op, after: ehv2[k] as Op })
  }
  out.push({ name: 'rbac decide', before: await rbacOp(base), after: await rbacOp(head) })
  out.push({ name: 'session validate (memory)', before: await sessionOp(base), after: await sessionOp(head) })
  return out
}

async function rate(op: Op, ms: number): Promise<number> {
  let ops = 0
  let batch = 1
  const start = performance.now()
  while (performance.now() - start < ms) {
    const t0 = performance.now()
    for (let j = 0; j < batch; j++) {
      const r = op()
      if (r instanceof Promise) await r
    }
    ops += batch
    if (performance.now() - t0 < ms / 20) batch *= 2
  }
  return (ops / (performance.now() - start)) * 1000
}

const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] as number
const fmt = (n: number): string => (n >= 1e6 ? `${(n / 1e6).toFixed(2)}M` : `${(n / 1e3).toFixed(1)}k`)

const list = await paths()
const startLoad = loadavg()[0]?.toFixed(2)
console.log(`before: ${base}\nafter:  ${head}\n${rounds} rounds of ${ROUND_MS} ms each side, alternating\n`)
console.log('| path | before ops/s | after ops/s | after/before | per-round median |')
console.log('|---|---:|---:|---:|---:|')
for (const p of list) {
  await rate(p.before, ROUND_MS)
  await rate(p.after, ROUND_MS)
  const b: number[] = []
  const a: number[] = []
  for (let r = 0; r < rounds; r++) {
    const first = r % 2 === 0
    const x = await rate(first ? p.before : p.after, ROUND_MS)
    const y = await rate(first ? p.after : p.before, ROUND_MS)
    b.push(first ? x : y)
    a.push(first ? y : x)
  }
  const perRound = median(a.map((v, k) => v / (b[k] as number)))
  console.log(
    `| ${p.name} | ${fmt(median(b))} | ${fmt(median(a))} | ${(median(a) / median(b)).toFixed(3)} | ${perRound.toFixed(3)} |`,
  )
}
console.log(`\nload average (1 min): ${startLoad} at start, ${loadavg()[0]?.toFixed(2)} at end`)
