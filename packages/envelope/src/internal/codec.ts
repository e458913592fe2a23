/**
 * Bounded big-endian byte reading and writing for the envelope header. Every read checks the
 * length against what remains; a short input throws {@link EnvelopeFormatError} (or, for the
 * incremental stream parser, reports that more bytes are needed).
 */
import { EnvelopeFormatError } from '../errors.js'

/** Thrown internally when the input ends before a field does; the stream parser waits for more. */
export class NeedMoreBytes extends Error {}

/** A cursor over a byte array. */
export class Reader {
  readonly #bytes: Uint8Array
  readonly #view: DataView
  #pos = 0

  constructor(bytes: Uint8Array) {
    this.#bytes = bytes
    this.#view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength)
  }

  get offset(): number {
    return this.#pos
  }

  get remaining(): number {
    return this.#bytes.length - this.#pos
  }

  #need(n: number): void {
    if (n > this.remaining) throw new NeedMoreBytes()
  }

  u8(): number {
    this.#need(1)
    return this.#view.getUint8(this.#pos++)
  }

  u16(): number {
    this.#need(2)
    const v = this.#view.getUint16(this.#pos)
    this.#pos += 2
    return v
  }

  u32(): number {
    this.#need(4)
    const v = this.#view.getUint32(this.#pos)
    this.#pos += 4
    return v
  }

  bytes(n: number): Uint8Array {
    this.#need(n)
    const out = this.#bytes.subarray(this.#pos, this.#pos + n)
    this.#pos += n
    return out
  }
}

/** Builds a byte array from big-endian fields, in one growable buffer (few allocations). */
export class Writer {
  #buf: Uint8Array
  #view: DataView
  #length = 0

  constructor(capacity = 256) {
    this.#buf = new Uint8Array(capacity)
    this.#view = new DataView(this.#buf.buffer)
  }

  get length(): number {
    return this.#length
  }

  #reserve(n: number): number {
    const at = this.#length
    if (at + n > this.#buf.length) {
      const next = new Uint8Array(Math.max(this.#buf.length * 2, at + n))
      next.set(this.#buf.subarray(0, at))
      this.#buf = next
      this.#view = new DataView(next.buffer)
    }
    this.#length += n
    return at
  }

  u8(v: number): this {
    const at = this.#reserve(1)
    this.#buf[at] = v & 0xff
    return this
  }

  // Every writer reserves before touching #buf or #view: in `this.#view.setUint16(this.#reserve(2),
  // v)` the old view is evaluated first, so a growth inside #reserve wrote past its end (a
  // RangeError, or for u8 a silently dropped byte and a corrupt header).
  u16(v: number): this {
    if (v < 0 || v > 0xffff) throw new EnvelopeFormatError('u16 field out of range')
    const at = this.#reserve(2)
    this.#view.setUint16(at, v)
    return this
  }

  u32(v: number): this {
    const at = this.#reserve(4)
    this.#view.setUint32(at, v)
    return this
  }

  bytes(b: Uint8Array): this {
    const at = this.#reserve(b.length)
    this.#buf.set(b, at)
    return this
  }

  finish(): Uint8Array {
    return this.#buf.slice(0, this.#length)
  }
}
