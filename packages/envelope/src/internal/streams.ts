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
import { type MessageKeys, openFrameParts, sealFrame } from './schedule.js'

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

/**
 * Cuts a byte stream into chunks of exactly `size` bytes, handing each to `onFull` (a view into the
 * input when a whole chunk is inside it, otherwise a copy assembled in one reused buffer); the
 * bytes left over wait for the next call or {@link Framer.rest}.
 */
class Framer {
  readonly #buf: Uint8Array
  #fill = 0

  constructor(size: number) {
    this.#buf = new Uint8Array(size)
  }

  async feed(data: Uint8Array, onFull: (chunk: Uint8Array) => Promise<void>): Promise<void> {
    const size = this.#buf.length
    let off = 0
    while (off < data.length) {
      if (this.#fill === 0 && data.length - off >= size) {
        await onFull(data.subarray(off, off + size))
        off += size
        continue
      }
      const n = Math.min(size - this.#fill, data.length - off)
      this.#buf.set(data.subarray(off, off + n), this.#fill)
      this.#fill += n
      off += n
      if (this.#fill === size) {
        this.#fill = 0
        await onFull(this.#buf)
      }
    }
  }

  /** The buffered bytes (fewer than `size`). */
  rest(): Uint8Array {
    return this.#buf.subarray(0, this.#fill)
  }

  /** Best-effort zeroisation. */
  clear(): void {
    this.#buf.fill(0)
  }
}

/**
 * Like {@link Framer}, but without copying: a frame is handed over as the list of input pieces it
 * spans (views into the chunks, which the stream owns once written, per the Streams contract).
 * Used on the decrypt side, where node:crypto can authenticate a frame given in pieces.
 */
class PartsFramer {
  readonly #size: number
  #parts: Uint8Array[] = []
  #fill = 0

  constructor(size: number) {
    this.#size = size
  }

  async feed(data: Uint8Array, onFull: (parts: Uint8Array[]) => Promise<void>): Promise<void> {
    const size = this.#size
    let off = 0
    while (off < data.length) {
      const n = Math.min(size - this.#fill, data.length - off)
      this.#parts.push(data.subarray(off, off + n))
      this.#fill += n
      off += n
      if (this.#fill === size) {
        const parts = this.#parts
        this.#parts = []
        this.#fill = 0
        await onFull(parts)
      }
    }
  }

  /** The pieces of the incomplete frame, and their total length. */
  rest(): { parts: Uint8Array[]; length: number } {
    return { parts: this.#parts, length: this.#fill }
  }
}

/** Encrypting transform: plaintext in, envelope out. */
export function encryptTransform(
  cfg: EnvelopeConfig,
  context: EncryptionContext,
): TransformStream<Uint8Array, Uint8Array> {
  const framer = new Framer(cfg.frameLength)
  let keys: MessageKeys
  let index = 0
  return new TransformStream<Uint8Array, Uint8Array>({
    async start(controller) {
      const w = await writeHeader(cfg, context)
      keys = w.keys
      controller.enqueue(w.header)
    },
    async transform(chunk, controller) {
      await framer.feed(chunkBytes(chunk), async (frame) => {
        // a full frame is never the final one: the final frame is strictly shorter
        const [ct, tag] = await sealFrame(keys, index++, false, frame)
        controller.enqueue(ct)
        controller.enqueue(tag)
      })
    },
    async flush(controller) {
      const [ct, tag] = await sealFrame(keys, index, true, framer.rest())
      if (ct.length > 0) controller.enqueue(ct)
      controller.enqueue(tag)
      framer.clear()
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
  let framer: PartsFramer | undefined
  let index = 0

  const release = (controller: TransformStreamDefaultController<Uint8Array>, pts: Uint8Array[]): void => {
    for (const pt of pts) if (pt.length > 0) controller.enqueue(pt)
  }
  const body = (data: Uint8Array, controller: TransformStreamDefaultController<Uint8Array>): Promise<void> =>
    (framer as PartsFramer).feed(data, async (parts) => {
      // a whole frame (frameLength + tag) is never the final one; authenticate it, then release
      release(controller, await openFrameParts(keys as MessageKeys, index++, false, parts))
    })

  return new TransformStream<Uint8Array, Uint8Array>({
    async transform(chunk, controller) {
      const data = chunkBytes(chunk)
      if (keys === undefined) {
        const got = collector.push(data)
        if (got === undefined) return
        keys = await openHeader(cfg, got.header, context)
        framer = new PartsFramer(got.header.frameLength + TAG_LENGTH)
        await body(got.rest, controller)
        return
      }
      await body(data, controller)
    },
    async flush(controller) {
      if (keys === undefined || framer === undefined)
        throw new EnvelopeFormatError('envelope header is truncated')
      const rest = framer.rest()
      if (rest.length < TAG_LENGTH) throw new EnvelopeDecryptionError()
      release(controller, await openFrameParts(keys, index, true, rest.parts))
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
