/**
 * `verify-child.ts <logDir> <bytes>`: verifyLog (workers: 'auto') and raw node:crypto SHA-256 over
 * the same segment files (the limit: a synchronous read-and-hash loop), interleaved, 5 rounds each after an untimed verification; prints the
 * medians in MB/s as JSON, with the best in-memory SHA-256 rate (no I/O) so the parent can tell
 * whether SHA-NI was off. The bench starts it with `OPENSSL_ia32cap=:~0x20000000` (SHA extensions
 * off), which OpenSSL reads when the process starts.
 */
import { openFileStore, verifyLog } from '../src/index.js'
import { memoryRate, rawFileRate } from './sha-rates.ts'

const [dir, bytesText] = process.argv.slice(2) as [string, string]
const bytes = Number(bytesText)
const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!

const store = await openFileStore({ dir, readOnly: true })
await verifyLog(store, { workers: 'auto' }) // untimed: compiles the hot code, starts the workers
const v: number[] = []
const r: number[] = []
for (let i = 0; i < 5; i++) {
  r.push(rawFileRate(dir, bytes))
  const t = performance.now()
  const report = await verifyLog(store, { workers: 'auto' })
  if (!report.ok) throw new Error('bench log does not verify')
  v.push(bytes / 1e6 / ((performance.now() - t) / 1000))
}
process.stdout.write(`${JSON.stringify({ verify: median(v), raw: median(r), memory: memoryRate() })}\n`)
process.exit(0)
