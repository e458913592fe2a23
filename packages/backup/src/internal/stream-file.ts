/**
 * Pipes a file through a Web Streams transform (a streaming cipher) into another file, or into
 * nothing (a decryptability check reads to the end and discards the plaintext).
 *
 * @module
 */
import { createReadStream, createWriteStream } from 'node:fs'
import { Readable, Writable } from 'node:stream'

/** Streams `from` through `transform` into `to` (created exclusively), or discards when `to` is null. */
export async function streamThrough(
  from: string,
  to: string | null,
  transform: TransformStream<Uint8Array, Uint8Array>,
): Promise<void> {
  const source = Readable.toWeb(
    createReadStream(from, { highWaterMark: 1024 * 1024 }),
  ) as ReadableStream<Uint8Array>
  const sink: WritableStream<Uint8Array> =
    to === null
      ? new WritableStream<Uint8Array>({ write: () => undefined })
      : (Writable.toWeb(createWriteStream(to, { flags: 'wx', mode: 0o600 })) as WritableStream<Uint8Array>)
  await source.pipeThrough(transform).pipeTo(sink)
}
