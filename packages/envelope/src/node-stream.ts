/**
 * Node.js stream adapter: turns the envelope's Web Streams transforms into a Node `Duplex`, for
 * `pipeline(fs.createReadStream(a), toNodeStream(envelope.encryptStream(ctx)), fs.createWriteStream(b))`.
 * Backpressure is preserved, so memory stays bounded by a frame and the streams' high-water marks.
 *
 * @module
 */
import type { Duplex } from 'node:stream'
import { builtinModule } from '@safeguards/core'

interface StreamModule {
  Duplex: { fromWeb(pair: { readable: ReadableStream; writable: WritableStream }, options?: object): Duplex }
}

/**
 * Wraps a Web Streams `TransformStream` (for example `envelope.encryptStream(context)`) as a Node
 * `Duplex`. Errors of the transform (for example the generic decryption error) are emitted as the
 * duplex's `error`.
 *
 * HIPAA: 164.312(e)(2)(ii) encryption (files and pipes), 164.312(a)(2)(iv).
 *
 * @throws {TypeError} outside Node.js (no node:stream).
 * @example
 * ```ts
 * import { pipeline } from 'node:stream/promises'
 * await pipeline(createReadStream('dump.sql'), toNodeStream(envelope.encryptStream({ backup: 'nightly' })), createWriteStream('dump.sql.hge'))
 * ```
 */
export function toNodeStream(transform: TransformStream<Uint8Array, Uint8Array>): Duplex {
  const mod = builtinModule<StreamModule>('node:stream', ['Duplex'])
  if (mod === undefined) throw new TypeError('toNodeStream needs Node.js (node:stream)')
  return mod.Duplex.fromWeb(transform, { objectMode: false })
}
