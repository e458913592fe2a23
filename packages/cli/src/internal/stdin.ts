/**
 * Bounded reads of a stream (stdin, or the head of an input file): a command never buffers more
 * than it can use, however much is piped in.
 *
 * @module
 */
import { concatBytes, utf8Encode } from '@safeguards/core'

/** What {@link readAtMost} read. */
export interface Prefix {
  /** At most `limit` bytes: the whole stream when `complete`. */
  bytes: Uint8Array
  /** True when the stream ended within `limit` bytes. */
  complete: boolean
}

/**
 * Reads `stream` until it ends or more than `limit` bytes have come; stops reading there (the
 * stream is destroyed when the loop breaks).
 */
export async function readAtMost(stream: NodeJS.ReadableStream, limit: number): Promise<Prefix> {
  const parts: Uint8Array[] = []
  let size = 0
  for await (const chunk of stream) {
    const bytes = typeof chunk === 'string' ? utf8Encode(chunk) : (chunk as Uint8Array)
    parts.push(bytes)
    size += bytes.length
    if (size > limit) {
      const all = concatBytes(...parts)
      return { bytes: all.subarray(0, limit), complete: false }
    }
  }
  return { bytes: concatBytes(...parts), complete: true }
}
