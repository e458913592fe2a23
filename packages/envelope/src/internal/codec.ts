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

/** Builds a byte array from big-endian fields. */
export class Writer {
  #parts: Uint8Array[] = []
  #length = 0

  get length(): number {
    return this.#length
  }

  #push(b: Uint8Array): this {
    this.#parts.push(b)
    this.#length += b.length
    return this
  }

  u8(v: number): this {
    return this.#push(Uint8Array.of(v & 0xff))
  }

  u16(v: number): this {
    if (v < 0 || v > 0xffff) throw new EnvelopeFormatError('u16 field out of range')
    return this.#push(Uint8Array.of(v >>> 8, v & 0xff))
  }

  u32(v: number): this {
    const b = new Uint8Array(4)
    new DataView(b.buffer).setUint32(0, v)
    return this.#push(b)
  }

  bytes(b: Uint8Array): this {
    return this.#push(b)
  }

  finish(): Uint8Array {
    const out = new Uint8Array(this.#length)
    let o = 0
    for (const p of this.#parts) {
      out.set(p, o)
      o += p.length
    }
    return out
  }
}
