import { appendFileSync, readdirSync, statSync } from 'node:fs'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { openAuditLog, openFileStore } from '../src/index.js'
import { event, tempDir, verifyEveryWay } from './helpers.js'
import { describeStoreConformance } from './store-conformance.js'

describeStoreConformance('file store', () =>
  openFileStore({ dir: join(tempDir(), 'log'), stream: 'conformance' }),
)

describe('file store reads across chunk boundaries', () => {
  it('a log larger than one read chunk (4 MiB) reads back contiguous and verifies, with a torn tail', async () => {
    const dir = tempDir()
    const log = await openAuditLog({
      store: await openFileStore({ dir, stream: 'chunks', durability: 'none' }),
    })
    const n = 10_000
    for (let i = 0; i < n; i += 1000)
      await Promise.all(Array.from({ length: 1000 }, (_, k) => log.append(event(i + k))))
    await log.close()
    const seg = join(dir, 'segments', readdirSync(join(dir, 'segments'))[0]!)
    expect(statSync(seg).size).toBeGreaterThan(4 * 1024 * 1024)
    appendFileSync(seg, '{"event":{"torn') // a crashed writer's unfinished line after the boundary

    const store = await openFileStore({ dir, readOnly: true })
    let seq = 0
    let bytes = 0
    for await (const r of store.read(0)) {
      expect(r.seq).toBe(seq++)
      expect(r.bytes[0]).toBe(0x7b)
      expect(r.bytes[r.bytes.length - 1]).toBe(0x7d)
      bytes += r.bytes.length + 1
    }
    expect(seq).toBe(n)
    expect(bytes).toBe(statSync(seg).size - '{"event":{"torn'.length)
    const tail: number[] = []
    for await (const r of store.read(n - 3)) tail.push(r.seq)
    expect(tail).toEqual([n - 3, n - 2, n - 1])
    const report = await verifyEveryWay(store)
    expect(report.records).toBe(n)
    expect(report.ok).toBe(true)
    expect(report.findings.map((f) => f.code)).toContain('TORN_TAIL')
    await store.close()
  })
})
