/**
 * One TLS handshake to a pinned address, with a hard timer (a client socket's `setTimeout` is an
 * idle timer only, so a silent server would hang the handshake forever). The outcome says whether
 * TCP connected at all: an error before the TCP connection is "unreachable", a TLS failure after
 * it is "rejected", and a timer that fires after TCP connected is "timeout" (inconclusive, never
 * "rejected").
 *
 * @module
 */
import { type ConnectionOptions, connect, type TLSSocket } from 'node:tls'
import { errorCode } from '@safeguards/core/node'

/** What one probe asks for. */
export interface HandshakeRequest {
  address: string
  port: number
  servername: string | undefined
  minVersion: ConnectionOptions['minVersion']
  maxVersion: ConnectionOptions['maxVersion']
  ciphers: string
  ca?: string[]
  requestOCSP?: boolean
  timeoutMs: number
}

/** The negotiated parameters of an accepted handshake. */
export interface Accepted<T> {
  kind: 'accepted'
  protocol: string
  /** OpenSSL name of the suite. */
  cipher: string
  /** IANA name of the suite. */
  standardName: string
  /** The ephemeral key exchange (`{}` for static RSA). */
  ephemeral: { type?: string; name?: string; size?: number }
  /** What `inspect` returned. */
  extra: T
}

/** The outcome of one handshake. */
export type HandshakeOutcome<T> =
  | Accepted<T>
  | { kind: 'rejected'; code: string }
  | { kind: 'timeout' }
  | { kind: 'unreachable'; code: string }

const codeOf = (e: unknown): string => errorCode(e) ?? 'ERR_UNKNOWN'

/**
 * Runs one handshake; `inspect` reads what it needs from the connected socket (and may use it,
 * for example to send one HTTP request) before the socket is destroyed.
 */
export function handshake<T>(
  req: HandshakeRequest,
  inspect: (socket: TLSSocket, ocsp: { response: Uint8Array | null }) => Promise<T> | T,
): Promise<HandshakeOutcome<T>> {
  return new Promise((resolve) => {
    let tcp = false
    let secured = false
    let done = false
    const ocsp: { response: Uint8Array | null } = { response: null }
    const options: ConnectionOptions = {
      host: req.address,
      port: req.port,
      minVersion: req.minVersion,
      maxVersion: req.maxVersion,
      ciphers: req.ciphers,
      rejectUnauthorized: false, // the checker judges the certificate itself; it sends nothing but a HEAD
    }
    if (req.servername !== undefined) options.servername = req.servername
    if (req.ca !== undefined) options.ca = req.ca
    // `requestOCSP` is a documented tls.connect option missing from @types/node's ConnectionOptions
    if (req.requestOCSP === true) Object.assign(options, { requestOCSP: true })
    const socket = connect(options)
    const finish = (outcome: HandshakeOutcome<T>): void => {
      if (done) return
      done = true
      clearTimeout(timer)
      socket.destroy()
      resolve(outcome)
    }
    const timer = setTimeout(
      () => finish(tcp ? { kind: 'timeout' } : { kind: 'unreachable', code: 'ETIMEDOUT' }),
      req.timeoutMs,
    )
    socket.once('connect', () => {
      tcp = true
    })
    socket.on('OCSPResponse', (response: Uint8Array | null) => {
      ocsp.response = response
    })
    socket.on('error', (e) => {
      if (secured) return // after the handshake, `inspect` owns the socket and its errors
      const code = codeOf(e)
      finish(tcp ? { kind: 'rejected', code } : { kind: 'unreachable', code })
    })
    socket.once('close', () => {
      if (!secured) finish({ kind: 'rejected', code: 'ECONNRESET' })
    })
    socket.once('secureConnect', () => {
      secured = true
      clearTimeout(timer)
      const cipher = socket.getCipher()
      const base = {
        kind: 'accepted' as const,
        protocol: socket.getProtocol() ?? 'unknown',
        cipher: cipher.name,
        standardName: cipher.standardName,
        ephemeral: (socket.getEphemeralKeyInfo() ?? {}) as Accepted<T>['ephemeral'],
      }
      // `inspect` keeps its own time and never throws on a peer's behaviour (a bug would reject)
      Promise.resolve()
        .then(() => inspect(socket, ocsp))
        .then(
          (extra) => finish({ ...base, extra }),
          (e: unknown) => finish({ kind: 'rejected', code: codeOf(e) }),
        )
    })
  })
}
