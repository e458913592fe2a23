/**
 * Pipes a file through a Web Streams transform (a streaming cipher) into another file, or into
 * nothing (a decryptability check reads to the end and discards the plaintext).
 *
 * @module
 */
import { createReadStream, createWriteStream } from 'node:fs'
import type { FileHandle } from 'node:fs/promises'
import { Readable, Writable } from 'node:stream'

/**
 * Streams `from` (a path, or an open handle, closed at the end) through `transform` into `to`
 * (created exclusively, mode 0600), or discards the output when `to` is null.
 */
export async function streamThrough(
  from: string | FileHandle,
  to: string | null,
  transform: TransformStream<Uint8Array, Uint8Array>,
): Promise<void> {
  const input =
    typeof from === 'string'
      ? createReadStream(from, { highWaterMark: 1024 * 1024 })
      : from.createReadStream({ highWaterMark: 1024 * 1024 })
  const source = Readable.toWeb(input) as ReadableStream<Uint8Array>
  const sink: WritableStream<Uint8Array> =
    to === null
      ? new WritableStream<Uint8Array>({ write: () => undefined })
      : (Writable.toWeb(createWriteStream(to, { flags: 'wx', mode: 0o600 })) as WritableStream<Uint8Array>)
  await source.pipeThrough(transform).pipeTo(sink)
}
