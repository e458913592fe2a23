/**
 * Web Streams transforms for encryption, decryption and rewrap. Memory is bounded by one frame
 * (plus the header, itself bounded by the parse limits) whatever the stream length.
 */
import { assertBytes } from '@safeguards/core'
import { EnvelopeDecryptionError, EnvelopeFormatError } from '../errors.js'
import { type EnvelopeHeader, parseHeaderPrefix, TAG_LENGTH } from '../format.js'
import { NeedMoreBytes } from './codec.js'
import type { EncryptionContext } from './context.js'
import { type EnvelopeConfig, openHeader, rewrapHeader, writeHeader } from './message.js'
import { type MessageKeys, openFrame, sealFrame } from './schedule.js'

/** Upper bound on a v1 header with 32 wrapped keys and a 64 KiB stored context. */
const MAX_HEADER_BYTES = 44 + 32 * (1 + 64 + 2 + 1024 + 2 + 4096) + 2 + 65536 + 48

function chunkBytes(chunk: unknown): Uint8Array {
  assertBytes(chunk, 'chunk')
  return chunk
}

/** Accumulates bytes until a header parses. */
class HeaderCollector {
  #parts: Uint8Array[] = []
  #size = 0
  readonly #maxEdks: number

  constructor(maxEdks: number) {
    this.#maxEdks = maxEdks
  }

  /** Adds a chunk; returns the header and the bytes after it once complete. */
  push(chunk: Uint8Array): { header: EnvelopeHeader; rest: Uint8Array } | undefined {
    this.#parts.push(chunk)
    this.#size += chunk.length
    const all = new Uint8Array(this.#size)
    let o = 0
    for (const p of this.#parts) {
      all.set(p, o)
      o += p.length
    }
    this.#parts = [all]
    try {
      const header = parseHeaderPrefix(all, { maxEdks: this.#maxEdks })
      const rest = all.subarray(header.length)
      // Copy the authenticated bytes out so the large buffer can be released.
      return { header: { ...header, authenticated: header.authenticated.slice() }, rest }
    } catch (e) {
      if (!(e instanceof NeedMoreBytes)) throw e
      if (this.#size > MAX_HEADER_BYTES) throw new EnvelopeFormatError('envelope header is too long')
      return undefined
    }
  }
}

/** Encrypting transform: plaintext in, envelope out. */
export function encryptTransform(
  cfg: EnvelopeConfig,
  context: EncryptionContext,
): TransformStream<Uint8Array, Uint8Array> {
  const frameLength = cfg.frameLength
  let keys: MessageKeys
  const buf = new Uint8Array(frameLength)
  let fill = 0
  let index = 0
  return new TransformStream<Uint8Array, Uint8Array>({
    async start(controller) {
      const w = await writeHeader(cfg, context)
      keys = w.keys
      controller.enqueue(w.header)
    },
    async transform(chunk, controller) {
      const data = chunkBytes(chunk)
      let off = 0
      while (off < data.length) {
        if (fill === 0 && data.length - off >= frameLength) {
          const [ct, tag] = await sealFrame(keys, index++, false, data.subarray(off, off + frameLength))
          controller.enqueue(ct)
          controller.enqueue(tag)
          off += frameLength
          continue
        }
        const n = Math.min(frameLength - fill, data.length - off)
        buf.set(data.subarray(off, off + n), fill)
        fill += n
        off += n
        if (fill === frameLength) {
          const [ct, tag] = await sealFrame(keys, index++, false, buf)
          controller.enqueue(ct)
          controller.enqueue(tag)
          fill = 0
        }
      }
    },
    async flush(controller) {
      const [ct, tag] = await sealFrame(keys, index, true, buf.subarray(0, fill))
      if (ct.length > 0) controller.enqueue(ct)
      controller.enqueue(tag)
      buf.fill(0)
    },
  })
}

/**
 * Decrypting transform: envelope in, plaintext out. Each frame is released only after its tag
 * verifies; the stream errors (with the generic decryption error) if the final frame is missing,
 * so output before an error is provisional.
 */
export function decryptTransform(
  cfg: EnvelopeConfig,
  context: EncryptionContext,
): TransformStream<Uint8Array, Uint8Array> {
  const collector = new HeaderCollector(cfg.maxEdks)
  let keys: MessageKeys | undefined
  let buf: Uint8Array = new Uint8Array(0)
  let full = 0
  let fill = 0
  let index = 0

  async function body(
    data: Uint8Array,
    controller: TransformStreamDefaultController<Uint8Array>,
  ): Promise<void> {
    const k = keys as MessageKeys
    let off = 0
    while (off < data.length) {
      if (fill === 0 && data.length - off >= full) {
        // a whole frame inside the chunk: authenticate it in place, no copy
        controller.enqueue(await openFrame(k, index++, false, data.subarray(off, off + full)))
        off += full
        continue
      }
      const n = Math.min(full - fill, data.length - off)
      buf.set(data.subarray(off, off + n), fill)
      fill += n
      off += n
      if (fill === full) {
        controller.enqueue(await openFrame(k, index++, false, buf))
        fill = 0
      }
    }
  }

  return new TransformStream<Uint8Array, Uint8Array>({
    async transform(chunk, controller) {
      const data = chunkBytes(chunk)
      if (keys === undefined) {
        const got = collector.push(data)
        if (got === undefined) return
        const opened = await openHeader(cfg, got.header, context)
        opened.dek.fill(0)
        keys = opened.keys
        full = got.header.frameLength + TAG_LENGTH
        buf = new Uint8Array(full)
        await body(got.rest, controller)
        return
      }
      await body(data, controller)
    },
    async flush(controller) {
      if (keys === undefined) throw new EnvelopeFormatError('envelope header is truncated')
      if (fill < TAG_LENGTH) throw new EnvelopeDecryptionError()
      controller.enqueue(await openFrame(keys, index, true, buf.subarray(0, fill)))
    },
  })
}

/** Rewrapping transform: rewrites the header and passes the body through untouched. */
export function rewrapTransform(
  cfg: EnvelopeConfig,
  context: EncryptionContext,
  to?: string,
): TransformStream<Uint8Array, Uint8Array> {
  const collector = new HeaderCollector(cfg.maxEdks)
  let done = false
  return new TransformStream<Uint8Array, Uint8Array>({
    async transform(chunk, controller) {
      const data = chunkBytes(chunk)
      if (done) {
        controller.enqueue(data)
        return
      }
      const got = collector.push(data)
      if (got === undefined) return
      controller.enqueue(await rewrapHeader(cfg, got.header, context, to))
      if (got.rest.length > 0) controller.enqueue(got.rest.slice())
      done = true
    },
    flush() {
      if (!done) throw new EnvelopeFormatError('envelope header is truncated')
    },
  })
}
