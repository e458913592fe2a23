/** Framing attacks (truncation, reordering, splicing, extension), Web and Node streams, bounded memory. */
import { Readable, Writable } from 'node:stream'
import { pipeline } from 'node:stream/promises'
import { beforeAll, describe, expect, it } from 'vitest'
import {
  createEnvelope,
  type Envelope,
  EnvelopeDecryptionError,
  EnvelopeFormatError,
  LocalKeyring,
  toNodeStream,
} from '../src/index.js'
import { concat, sameBytes } from './helpers.js'

const FL = 4096
const FULL = FL + 16
let env: Envelope

beforeAll(async () => {
  env = createEnvelope({ provider: await LocalKeyring.inMemory(), frameLength: FL })
})

const pattern = (n: number, seed = 0): Uint8Array => new Uint8Array(n).map((_, i) => (i * 7 + seed) & 0xff)

async function streamThrough(ts: TransformStream<Uint8Array, Uint8Array>, data: Uint8Array, chunk = 1000) {
  const parts: Uint8Array[] = []
  for (let i = 0; i < data.length; i += chunk) parts.push(data.subarray(i, i + chunk))
  const src = new ReadableStream<Uint8Array>({
    pull(c) {
      const p = parts.shift()
      if (p === undefined) c.close()
      else c.enqueue(p)
    },
  })
  const out: Uint8Array[] = []
  await src.pipeThrough(ts).pipeTo(new WritableStream({ write: (c) => void out.push(c) }))
  return concat(...out)
}

/** Splits an envelope into header and frames. */
function split(ct: Uint8Array): { header: Uint8Array; frames: Uint8Array[] } {
  const h = env.inspect(ct).headerLength
  const frames: Uint8Array[] = []
  let o = h
  while (ct.length - o > FULL - 1 + 1 && ct.length - o >= FULL) {
    frames.push(ct.subarray(o, o + FULL))
    o += FULL
  }
  frames.push(ct.subarray(o))
  return { header: ct.subarray(0, h), frames }
}

const join = concat

describe('framing attacks', () => {
  it('detects truncation at every frame boundary and inside frames', async () => {
    const ct = await env.encrypt(pattern(3 * FL + 10), {})
    const { header } = split(ct)
    for (const cut of [
      header.length,
      header.length + 1,
      header.length + FULL,
      header.length + 2 * FULL,
      ct.length - 1,
      ct.length - 16,
    ]) {
      await expect(env.decrypt(ct.subarray(0, cut), {})).rejects.toBeInstanceOf(EnvelopeDecryptionError)
      await expect(streamThrough(env.decryptStream({}), ct.subarray(0, cut))).rejects.toBeInstanceOf(
        EnvelopeDecryptionError,
      )
    }
    // dropping the final frame of an exact multiple (the empty final frame) is detected too
    const exact = await env.encrypt(pattern(2 * FL), {})
    await expect(env.decrypt(exact.subarray(0, exact.length - 16), {})).rejects.toBeInstanceOf(
      EnvelopeDecryptionError,
    )
    await expect(env.decrypt(ct.subarray(0, 20), {})).rejects.toBeInstanceOf(EnvelopeFormatError)
  })

  it('detects reordered frames', async () => {
    const ct = await env.encrypt(pattern(3 * FL + 10), {})
    const { header, frames } = split(ct)
    const [f0, f1, f2, f3] = frames as [Uint8Array, Uint8Array, Uint8Array, Uint8Array]
    await expect(env.decrypt(join(header, f1, f0, f2, f3), {})).rejects.toBeInstanceOf(
      EnvelopeDecryptionError,
    )
    await expect(env.decrypt(join(header, f0, f2, f1, f3), {})).rejects.toBeInstanceOf(
      EnvelopeDecryptionError,
    )
  })

  it('detects frames spliced from another message, even under the same KEK and context', async () => {
    const a = await env.encrypt(pattern(2 * FL + 5, 1), { id: 'x' })
    const b = await env.encrypt(pattern(2 * FL + 5, 2), { id: 'x' })
    const sa = split(a)
    const sb = split(b)
    await expect(
      env.decrypt(join(sa.header, sb.frames[0]!, sa.frames[1]!, sa.frames[2]!), { id: 'x' }),
    ).rejects.toBeInstanceOf(EnvelopeDecryptionError)
    await expect(env.decrypt(join(sb.header, ...sa.frames), { id: 'x' })).rejects.toBeInstanceOf(
      EnvelopeDecryptionError,
    )
  })

  it('detects extension after the final frame, and a duplicated frame', async () => {
    const ct = await env.encrypt(pattern(FL + 10), {})
    const { header, frames } = split(ct)
    await expect(env.decrypt(join(ct, new Uint8Array(1)), {})).rejects.toBeInstanceOf(EnvelopeDecryptionError)
    await expect(env.decrypt(join(ct, frames[1]!), {})).rejects.toBeInstanceOf(EnvelopeDecryptionError)
    await expect(env.decrypt(join(header, frames[0]!, frames[0]!, frames[1]!), {})).rejects.toBeInstanceOf(
      EnvelopeDecryptionError,
    )
    await expect(streamThrough(env.decryptStream({}), join(ct, ct))).rejects.toBeInstanceOf(
      EnvelopeDecryptionError,
    )
  })
})

describe('streams', () => {
  it('stream encryption is byte-compatible with one-shot decryption, in any chunking', async () => {
    for (const [n, chunk] of [
      [0, 7],
      [FL, 1],
      [FL * 3, FL],
      [FL * 3 + 1, 5000],
      [100_000, 65536],
    ] as const) {
      const pt = pattern(n)
      const ct = await streamThrough(env.encryptStream({ f: 'x' }), pt, chunk)
      expect(sameBytes(await env.decrypt(ct, { f: 'x' }), pt)).toBe(true)
      expect(sameBytes(await streamThrough(env.decryptStream({ f: 'x' }), ct, chunk + 3), pt)).toBe(true)
    }
  })

  it('an empty input to the decryptor is a format error; non-bytes are a TypeError', async () => {
    await expect(streamThrough(env.decryptStream({}), new Uint8Array(0))).rejects.toBeInstanceOf(
      EnvelopeFormatError,
    )
    const src = new ReadableStream<Uint8Array>({
      start(c) {
        c.enqueue('text' as unknown as Uint8Array)
        c.close()
      },
    })
    await expect(src.pipeThrough(env.encryptStream({})).pipeTo(new WritableStream())).rejects.toBeInstanceOf(
      TypeError,
    )
  })

  it('the Node adapter pipes in bounded memory (32 MiB through encrypt and decrypt)', async () => {
    const big = createEnvelope({ provider: await LocalKeyring.inMemory() })
    const total = 32 * 1024 * 1024
    const chunk = new Uint8Array(64 * 1024).fill(0x41)
    let produced = 0
    const source = () =>
      new Readable({
        read() {
          if (produced >= total) this.push(null)
          else {
            produced += chunk.length
            this.push(chunk)
          }
        },
      })
    let seen = 0
    let maxInFlight = 0
    const sink = new Writable({
      write(c: Uint8Array, _e, cb) {
        seen += c.length
        // bytes read from the source but not yet delivered: what the pipeline holds in memory
        maxInFlight = Math.max(maxInFlight, produced - seen)
        cb(c[0] === 0x41 ? null : new Error('bad plaintext'))
      },
    })
    await pipeline(source(), toNodeStream(big.encryptStream({})), toNodeStream(big.decryptStream({})), sink)
    expect(seen).toBe(total)
    // bounded by a few frames and the streams' high-water marks, not by the 32 MiB that went through
    expect(maxInFlight).toBeLessThan(1024 * 1024)
  })

  it('a tampered stream errors through the Node adapter with the generic error', async () => {
    const ct = await env.encrypt(pattern(2 * FL), {})
    ct[ct.length - 40] = (ct[ct.length - 40] as number) ^ 1
    const sink = new Writable({ write: (_c, _e, cb) => cb() })
    await expect(
      pipeline(Readable.from([ct]), toNodeStream(env.decryptStream({})), sink),
    ).rejects.toBeInstanceOf(EnvelopeDecryptionError)
  })
})
