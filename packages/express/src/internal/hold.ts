/**
 * Holding an Express response until its audit record is written: `writeHead`, `write` and `end`
 * are deferred (the body is buffered), then released as they were called, or replaced by the
 * 503 refusal when the record could not be written (every header the handler set is dropped,
 * `Set-Cookie` included: nothing from the request leaves). The cost is the buffered body: a
 * response must fit in memory.
 *
 * @module
 */
import type { HttpReply } from '@safeguards/http'
import type { Response } from 'express'

type Chunk = unknown
type Args = unknown[]

/**
 * Defers the response's head and body until `gate()` resolves: `null` sends them, a reply is
 * sent instead of them. `base` is set again on a replacement (the security headers).
 *
 * @internal
 */
export function holdResponse(
  res: Response,
  gate: () => Promise<HttpReply | null>,
  base: Readonly<Record<string, string>>,
): void {
  const writeHead = res.writeHead.bind(res) as (...a: Args) => Response
  const write = res.write.bind(res) as (...a: Args) => boolean
  const end = res.end.bind(res) as (...a: Args) => Response
  let head: Args | undefined
  const chunks: [Chunk, unknown][] = []
  let ended = false
  res.writeHead = ((...args: Args) => {
    head = args
    if (typeof args[0] === 'number') res.statusCode = args[0]
    return res
  }) as Response['writeHead']
  res.write = ((chunk: Chunk, encoding?: unknown, cb?: unknown) => {
    chunks.push([chunk, typeof encoding === 'string' ? encoding : undefined])
    const done = typeof encoding === 'function' ? encoding : cb
    if (typeof done === 'function') queueMicrotask(() => (done as () => void)())
    return true
  }) as Response['write']
  res.end = ((chunk?: Chunk, encoding?: unknown, cb?: unknown) => {
    if (ended) return res
    ended = true
    if (typeof chunk === 'function') cb = chunk
    else if (chunk !== undefined && chunk !== null)
      chunks.push([chunk, typeof encoding === 'string' ? encoding : undefined])
    const done = typeof encoding === 'function' ? encoding : cb
    gate().then(
      (reply) => {
        // Node's own write and end call res.writeHead for the implicit head: restore the originals.
        res.writeHead = writeHead as Response['writeHead']
        res.write = write as Response['write']
        res.end = end as Response['end']
        if (reply === null) {
          if (head !== undefined) writeHead(...head)
          for (const [c, e] of chunks) e === undefined ? write(c) : write(c, e)
          end(...(typeof done === 'function' ? [done] : []))
          return
        }
        for (const name of res.getHeaderNames()) res.removeHeader(name)
        res.statusCode = reply.status
        writeHead(reply.status, { ...base, ...reply.headers })
        end(reply.body)
      },
      () => res.destroy(),
    )
    return res
  }) as Response['end']
}
