/**
 * Reads the HSTS header (RFC 6797) of an HTTPS endpoint with one `HEAD /` on an open TLS socket:
 * no redirect is followed, no body is kept (it could carry PHI), at most 16 KiB of headers are read.
 *
 * @module
 */
import type { TLSSocket } from 'node:tls'
import type { HstsResult } from '../result.js'

const MAX_HEADER_BYTES = 16 * 1024

/** Parses a `Strict-Transport-Security` value (RFC 6797 §6.1); directives are case-insensitive. */
export function parseHsts(value: string): { maxAge: number; includeSubDomains: boolean; preload: boolean } {
  let maxAge = 0
  let includeSubDomains = false
  let preload = false
  for (const part of value.split(';')) {
    const [rawName, ...rest] = part.split('=')
    const name = (rawName ?? '').trim().toLowerCase()
    const v = rest
      .join('=')
      .trim()
      .replace(/^"(.*)"$/, '$1')
    if (name === 'max-age' && /^\d{1,10}$/.test(v)) maxAge = Number(v)
    else if (name === 'includesubdomains') includeSubDomains = true
    else if (name === 'preload') preload = true
  }
  return { maxAge, includeSubDomains, preload }
}

/** Sends `HEAD /` with `Host: hostHeader` and reads the response headers. Never throws. */
export function readHsts(socket: TLSSocket, hostHeader: string, timeoutMs: number): Promise<HstsResult> {
  return new Promise((resolve) => {
    const chunks: Uint8Array[] = []
    let size = 0
    let done = false
    const finish = (result: HstsResult): void => {
      if (done) return
      done = true
      clearTimeout(timer)
      resolve(result)
    }
    const timer = setTimeout(() => finish({ status: 'inconclusive' }), timeoutMs)
    const judge = (complete: boolean): void => {
      const all = new Uint8Array(size)
      let o = 0
      for (const c of chunks) {
        all.set(c, o)
        o += c.length
      }
      const text = new TextDecoder('latin1').decode(all)
      const endOfHeaders = text.indexOf('\r\n\r\n')
      if (endOfHeaders < 0 && !complete && size < MAX_HEADER_BYTES) return
      const head = endOfHeaders < 0 ? text : text.slice(0, endOfHeaders)
      const lines = head.split('\r\n')
      const status = /^HTTP\/1\.[01] (\d{3})/.exec(lines[0] ?? '')
      if (status === null) {
        finish({ status: 'not-http' })
        return
      }
      const httpStatus = Number(status[1])
      const line = lines.find((l) => /^strict-transport-security\s*:/i.test(l))
      if (line === undefined) {
        finish({ status: 'missing', httpStatus })
        return
      }
      const header = line.slice(line.indexOf(':') + 1).trim()
      finish({ status: 'present', httpStatus, header, ...parseHsts(header) })
    }
    socket.on('data', (chunk: Uint8Array) => {
      chunks.push(chunk)
      size += chunk.length
      judge(false)
    })
    socket.once('end', () => judge(true))
    socket.once('error', () => (size > 0 ? judge(true) : finish({ status: 'not-http' })))
    const host = /[\r\n]/.test(hostHeader) ? 'invalid' : hostHeader
    socket.write(
      `HEAD / HTTP/1.1\r\nHost: ${host}\r\nUser-Agent: safeguards-transit-check\r\nConnection: close\r\n\r\n`,
    )
  })
}
