/**
 * Fast canonical encoding of records whose event passed `validateEvent`. The output is
 * byte-identical to core's `canonicalize` (a property test checks it) and pure ASCII.
 */
import { canonicalize } from '@safeguards/core'
import type { AuditEvent } from '../record.js'

const INDEX_LIKE = /^(0|[1-9]\d{0,9})$/

/**
 * Canonical JSON of an event returned by `validateEvent`. Validation inserts members in RFC 8785
 * order and admits only strings that need no escaping and safe integers, so `JSON.stringify` already
 * prints the canonical form, except when a `details` key looks like an array index (JavaScript puts
 * those first): then core's `canonicalize` is used.
 */
export function eventText(e: AuditEvent): string {
  if (e.details !== undefined) {
    for (const k of Object.keys(e.details)) if (INDEX_LIKE.test(k)) return canonicalize(e)
  }
  return JSON.stringify(e)
}

const encoder = new TextEncoder()

/**
 * Encodes a batch of records into one buffer: each record is preceded by a 0x00 byte so its RFC 6962
 * leaf hash is computed over a view, without a copy. `next(prevHash)` returns the record text.
 */
export class RecordArena {
  readonly buf: Uint8Array
  #pos = 0
  constructor(capacity: number) {
    this.buf = new Uint8Array(capacity)
  }
  /** Writes `text` (ASCII) after a 0x00 byte; returns [leafInput, recordBytes] views. */
  put(text: string): [Uint8Array, Uint8Array] {
    const start = this.#pos
    this.buf[start] = 0
    const { read, written } = encoder.encodeInto(text, this.buf.subarray(start + 1))
    if (read !== text.length || written !== text.length)
      throw new RangeError('record text is not ASCII or the arena is full')
    this.#pos = start + 1 + written
    return [this.buf.subarray(start, this.#pos), this.buf.subarray(start + 1, this.#pos)]
  }
}

/** The record text around an already-serialised event. */
export function recordText(
  eventText: string,
  prevHex: string,
  recorded: string,
  seq: number,
  stream: string,
): string {
  return `{"event":${eventText},"prev":"${prevHex}","recorded":"${recorded}","seq":${seq},"stream":"${stream}","v":1}`
}

/** Canonical bytes of a record envelope around an already-serialised event. */
export function recordBytes(
  eventText: string,
  prevHex: string,
  recorded: string,
  seq: number,
  stream: string,
): Uint8Array {
  return encoder.encode(
    `{"event":${eventText},"prev":"${prevHex}","recorded":"${recorded}","seq":${seq},"stream":"${stream}","v":1}`,
  )
}

const HEX: string[] = Array.from({ length: 256 }, (_, i) => i.toString(16).padStart(2, '0'))

/** Lowercase hex, table-driven (hot path). */
export function hex(bytes: Uint8Array): string {
  let s = ''
  for (let i = 0; i < bytes.length; i++) s += HEX[bytes[i]!]!
  return s
}

const HEXCHARS = [...'0123456789abcdef'].map((c) => c.charCodeAt(0))

/** Writes the lowercase hex of a 32-byte hash as ASCII into `out` (64 bytes). */
export function hexInto(bytes: Uint8Array, out: Uint8Array): void {
  for (let i = 0; i < bytes.length; i++) {
    const v = bytes[i]!
    out[2 * i] = HEXCHARS[v >> 4]!
    out[2 * i + 1] = HEXCHARS[v & 15]!
  }
}
