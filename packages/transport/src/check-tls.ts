/**
 * `checkTls`: a TLS endpoint checker that connects as a client, only to the address given, and
 * judges what it measures against NIST SP 800-52r2 and this package's profile. Each protocol
 * version is tried on its own (TLS 1.0 and 1.1 with `@SECLEVEL=0`, which OpenSSL 3 needs to speak
 * them at all); at each accepted version the suites are enumerated by elimination (offer every
 * suite, note the one chosen, offer the rest again, until the server refuses), which finds CBC-only
 * and static-RSA suites in as many handshakes as the server accepts suites; then one handshake
 * reads the certificate chain and the OCSP staple, and one HEAD request reads HSTS.
 *
 * Scope: the host name is resolved once and every connection goes to that one address; no
 * redirect is followed, no AIA, OCSP or CRL URL is fetched, no response body is kept.
 *
 * @module
 */
import { lookup } from 'node:dns/promises'
import { isIP } from 'node:net'
import { getCiphers, type TLSSocket } from 'node:tls'
import { type Clock, systemClock } from '@safeguards/core'
import { TransportConfigError, TransportTargetError, TransportUnreachableError } from './errors.js'
import { finding, TLS_FINDINGS, type TlsFinding, verdictOf } from './findings.js'
import { certificateReport } from './internal/certificate.js'
import { WEAK_SIGNATURES } from './internal/der.js'
import {
  type Accepted,
  type HandshakeOutcome,
  type HandshakeRequest,
  handshake,
} from './internal/handshake.js'
import { readHsts } from './internal/hsts.js'
import { type Pem, pemList } from './internal/pem.js'
import { TLS_VERSIONS, type TlsVersion } from './profile.js'
import type { CertificateReport, HstsReport, ProtocolStatus, SuiteInfo, TlsCheckResult } from './result.js'

/** Options of {@link checkTls}. */
export interface CheckTlsOptions {
  /** The name to send (SNI) and check the certificate against (default: the host, when it is a name). */
  servername?: string
  /** Trust only these CAs (default: Node's root store). */
  ca?: Pem | readonly Pem[]
  /** Hard limit for each handshake and for the HEAD request, 100 to 60 000 ms (default 3000). */
  timeoutMs?: number
  /** The clock for `checkedAt` and the days to expiry (default the system clock). */
  clock?: Clock
  /** Send one `HEAD /` to read HSTS (default true; false for a service that is not HTTPS). */
  http?: boolean
}

/** Every suite this runtime's OpenSSL has, for TLS 1.2 and before. */
const ALL_SUITES = 'ALL:COMPLEMENTOFALL'
/** OpenSSL 3 speaks TLS 1.0 and 1.1 (SHA-1 signatures) only at security level 0: for probes only. */
const LEGACY_CIPHERS = `${ALL_SUITES}:@SECLEVEL=0`
/** Every TLS 1.3 suite (RFC 8446 §B.4). */
const TLS13_ALL = [
  'TLS_AES_256_GCM_SHA384',
  'TLS_CHACHA20_POLY1305_SHA256',
  'TLS_AES_128_GCM_SHA256',
  'TLS_AES_128_CCM_SHA256',
  'TLS_AES_128_CCM_8_SHA256',
]
/** Legacy suite families, and how to spot them in `tls.getCiphers()`. */
const LEGACY_FAMILIES: readonly (readonly [string, RegExp])[] = [
  ['RC4', /rc4/],
  ['3DES', /des-cbc3|3des/],
  ['DES', /(^|-)des-cbc-/],
  ['NULL', /null/],
  ['EXPORT', /exp/],
]

/** What this runtime cannot offer, so was not tried: SSL 2 and 3, and the legacy families its OpenSSL lacks. */
function untestable(): string[] {
  const have = getCiphers()
  const missing = LEGACY_FAMILIES.filter(([, re]) => !have.some((c) => re.test(c))).map(([name]) => name)
  return ['SSLv2', 'SSLv3', ...missing, ...TLS13_ALL.filter((s) => !have.includes(s.toLowerCase()))]
}
const MAX_SUITES_PER_VERSION = 64
/** IANA suite names with a broken or missing part: NULL, anonymous, export, RC4, DES, 3DES, IDEA, RC2, MD5. */
const WEAK_SUITE = /_(NULL|anon|EXPORT|EXPORT1024|RC4|DES|DES40|3DES|IDEA|RC2)_|_NULL$|_MD5$/
/** IANA suite names with authenticated encryption. */
const AEAD_SUITE = /_GCM_|_CCM(_8)?(_|$)|_POLY1305_/
const CURVE_OK: ReadonlySet<string> = new Set(['prime256v1', 'secp384r1', 'secp521r1'])

/**
 * Parses `HOST:PORT`, `[IPv6]:PORT` or `IPv4:PORT`.
 *
 * @throws {TransportTargetError} when the port is missing or outside 1..65535, the host is empty,
 * or an IPv6 address is not in brackets.
 * @example
 * ```ts
 * parseTarget('[::1]:8443') // { host: '::1', port: 8443 }
 * parseTarget('ehr.example.org:443') // { host: 'ehr.example.org', port: 443 }
 * ```
 */
export function parseTarget(text: string): { host: string; port: number } {
  if (typeof text !== 'string') throw new TypeError('"target" expected a string')
  const m = /^\[([0-9A-Fa-f:.]+)\]:(\d{1,5})$/.exec(text) ?? /^([^:[\]\s/]+):(\d{1,5})$/.exec(text)
  if (m === null)
    throw new TransportTargetError('the target must be HOST:PORT (an IPv6 address in brackets: [::1]:443)')
  const host = m[1] as string
  const port = Number(m[2])
  if (text.startsWith('[') && isIP(host) !== 6)
    throw new TransportTargetError('the bracketed host is not an IPv6 address')
  if (port < 1 || port > 65_535) throw new TransportTargetError('the port must be in 1..65535')
  return { host, port }
}

function suiteInfo(version: TlsVersion, a: Accepted<unknown>): SuiteInfo {
  const name = a.standardName
  const e = a.ephemeral
  const fs = version === 'TLSv1.3' || /_(ECDHE|DHE)_/.test(name)
  const group = e.type === undefined ? null : e.type === 'DH' ? `DH ${e.size ?? '?'}` : (e.name ?? e.type)
  return {
    name,
    openssl: a.cipher,
    forwardSecrecy: fs,
    aead: AEAD_SUITE.test(name),
    group,
  }
}

/** Enumerates the suites accepted at `version`, in the server's order, by elimination. */
async function enumerate(
  base: Omit<HandshakeRequest, 'ciphers' | 'minVersion' | 'maxVersion'>,
  version: TlsVersion,
): Promise<{ suites: SuiteInfo[]; inconclusive: boolean }> {
  const suites: SuiteInfo[] = []
  const excluded: string[] = []
  const tls13 = version === 'TLSv1.3'
  for (let i = 0; i < MAX_SUITES_PER_VERSION; i++) {
    const ciphers = tls13
      ? TLS13_ALL.filter((s) => !excluded.includes(s)).join(':')
      : [ALL_SUITES, ...excluded.map((s) => `!${s}`), '@SECLEVEL=0'].join(':')
    if (ciphers === '') break
    const out = await handshake(
      { ...base, minVersion: version, maxVersion: version, ciphers },
      () => undefined,
    )
    if (out.kind === 'timeout' || out.kind === 'unreachable') return { suites, inconclusive: true }
    if (out.kind === 'rejected') break
    const key = tls13 ? out.standardName : out.cipher
    if (excluded.includes(key)) break // the runtime ignored the exclusion: stop rather than loop
    excluded.push(key)
    suites.push(suiteInfo(version, out))
  }
  return { suites, inconclusive: false }
}

function probeCiphers(version: TlsVersion): string {
  return version === 'TLSv1.3' ? TLS13_ALL.join(':') : LEGACY_CIPHERS
}

function judgeProtocols(protocols: Record<TlsVersion, ProtocolStatus>, out: TlsFinding[]): void {
  if (protocols.TLSv1 === 'accepted') out.push(finding('PROTO_TLS10', 'TLS 1.0 accepted'))
  if (protocols['TLSv1.1'] === 'accepted') out.push(finding('PROTO_TLS11', 'TLS 1.1 accepted'))
  if (TLS_VERSIONS.every((v) => protocols[v] === 'rejected')) {
    out.push(finding('NO_TLS', 'every TLS version from 1.0 to 1.3 was refused'))
    return
  }
  if (protocols['TLSv1.2'] === 'rejected') out.push(finding('NO_TLS12', 'TLS 1.2 refused'))
  if (protocols['TLSv1.3'] === 'rejected') out.push(finding('NO_TLS13', 'TLS 1.3 refused'))
}

function judgeSuites(suites: Partial<Record<TlsVersion, SuiteInfo[]>>, out: TlsFinding[]): void {
  const weak: string[] = []
  const noFs: string[] = []
  const cbc: string[] = []
  for (const list of Object.values(suites)) {
    for (const s of list ?? []) {
      const dh = /^DH (\d+)$/.exec(s.group ?? '')
      if (WEAK_SUITE.test(s.name) || (dh !== null && Number(dh[1]) < 2048)) weak.push(s.name)
      else if (!s.forwardSecrecy) noFs.push(s.name)
      else if (!s.aead) cbc.push(s.name)
    }
  }
  const uniq = (l: string[]): string => [...new Set(l)].join(', ')
  if (weak.length > 0) out.push(finding('SUITE_WEAK', `weak suites accepted: ${uniq(weak)}`))
  if (noFs.length > 0)
    out.push(finding('SUITE_NO_FS', `suites without forward secrecy accepted: ${uniq(noFs)}`))
  if (cbc.length > 0) out.push(finding('SUITE_CBC', `CBC (non-AEAD) suites accepted: ${uniq(cbc)}`))
}

function judgeCertificate(c: CertificateReport, out: TlsFinding[]): void {
  if (!c.trusted)
    out.push(
      finding(
        'CERT_UNTRUSTED',
        `chain not trusted by the ${c.trustStore} store: ${c.trustError ?? 'unknown'}`,
      ),
    )
  if (!c.hostnameMatch) out.push(finding('CERT_HOSTNAME', `certificate does not name ${c.name}`))
  const days = c.daysToExpiry
  if (days < 0) out.push(finding('CERT_EXPIRED', `expired on ${c.validTo}`))
  else if (days < 7) out.push(finding('CERT_EXPIRY_7D', `expires in ${days} day(s), on ${c.validTo}`))
  else if (days < 30) out.push(finding('CERT_EXPIRY_30D', `expires in ${days} days, on ${c.validTo}`))
  const k = c.key
  const weakKey =
    k.type === 'rsa' || k.type === 'rsa-pss' || k.type === 'dsa'
      ? (k.bits ?? 0) < 2048 || k.type === 'dsa'
      : k.type === 'ec'
        ? k.curve === null || !CURVE_OK.has(k.curve)
        : k.type !== 'ed25519' && k.type !== 'ed448'
  if (weakKey) out.push(finding('CERT_WEAK_KEY', `leaf key ${k.type} ${k.curve ?? k.bits ?? '?'}`))
  // the root's self-signature is not checked by anyone: judge the leaf and intermediates only
  const signed = c.chain.filter((x, i) => i === 0 || x.subject !== x.issuer)
  const weakSig = signed.find(
    (x) => x.signatureAlgorithm !== null && WEAK_SIGNATURES.has(x.signatureAlgorithm),
  )
  if (weakSig !== undefined)
    out.push(finding('CERT_WEAK_SIG', `${weakSig.subject} signed with ${weakSig.signatureAlgorithm}`))
}

function judgeHsts(h: HstsReport, out: TlsFinding[]): void {
  if (h.status === 'missing')
    out.push(finding('HSTS_MISSING', `HTTP ${h.httpStatus ?? '?'} without Strict-Transport-Security`))
  else if (h.status === 'present' && ((h.maxAge ?? 0) < 31_536_000 || h.includeSubDomains !== true))
    out.push(finding('HSTS_SHORT', `Strict-Transport-Security: ${h.header ?? ''}`))
}

const ORDER = { fail: 0, warn: 1, info: 2 } as const

function checkOptions(options: CheckTlsOptions): { timeoutMs: number; ca: string[] | undefined } {
  if (typeof options !== 'object' || options === null) throw new TypeError('"options" expected an object')
  const timeoutMs = options.timeoutMs ?? 3000
  if (!Number.isSafeInteger(timeoutMs) || timeoutMs < 100 || timeoutMs > 60_000)
    throw new TransportConfigError('"timeoutMs" must be an integer from 100 to 60000')
  if (
    options.servername !== undefined &&
    (typeof options.servername !== 'string' || !/^[A-Za-z0-9.-]{1,253}$/.test(options.servername))
  )
    throw new TransportConfigError('"servername" must be a DNS name')
  return { timeoutMs, ca: options.ca === undefined ? undefined : pemList(options.ca, 'ca') }
}

/**
 * Checks the TLS endpoint `host:port` as a client and judges it: protocol versions 1.0 to 1.3
 * (each tried alone), the suites accepted at each (by elimination, so CBC and static-RSA suites
 * show up), forward secrecy, the certificate chain (trust against Node's root store or `ca`, the
 * host name, key type and size, signature algorithm, days to expiry), the OCSP staple, and HSTS
 * from one `HEAD /`. Verdict `fail` (TLS 1.0/1.1, weak or non-forward-secret suites, an untrusted,
 * misnamed, expired or weak certificate, expiry within 7 days), `warn` (CBC suites, no TLS 1.3,
 * expiry within 30 days, HSTS missing or short, a probe without answer) or `pass`.
 *
 * Only `host` (resolved once) and `port` are contacted. Needs only a client socket: no privilege.
 *
 * @param host - a DNS name or an IP address.
 * @param port - 1..65535.
 * @param options - `servername`, `ca`, `timeoutMs` (per handshake, default 3000), `clock`, `http`.
 * @returns the result (`format: 'transit-check/1'`), plain JSON.
 * @throws {TransportUnreachableError} when the name does not resolve or no TCP connection can be made.
 * @throws {TransportTargetError} when `host` is empty or `port` is outside 1..65535.
 * @throws {TransportConfigError} on a bad `timeoutMs`, `servername` or `ca`.
 *
 * @hipaa 164.312(e)(1) supports
 * @hipaa 164.312(e)(2)(i) supports
 * @hipaa 164.312(e)(2)(ii) supports
 * @nist SC-8 164.312(e)(1)
 * @nist SC-8 164.312(e)(2)(i)
 * @nist SC-8 164.312(e)(2)(ii)
 * @nist SC-13 164.312(e)(2)(ii)
 * @nist CA-7 164.312(e)(1): a repeatable check of each endpoint's protocols, suites and certificate, with a verdict and reason codes
 * @evidence the `transit-check/1` JSON result (protocols, suites, forward secrecy, certificate, OCSP, HSTS, findings with SP 800-52r2 references, verdict), with the Node and OpenSSL versions that probed
 * @appResponsibility Run the check on every endpoint that carries PHI, on a schedule and after each change, and act on fail and warn.
 * @config servername, ca, timeoutMs
 * @verifiedBy packages/transport/test/check-tls.test.ts
 *
 * @example
 * ```ts
 * import { checkTls } from '@safeguards/transport'
 *
 * const result = await checkTls('ehr.example.org', 443)
 * if (result.verdict === 'fail') for (const f of result.findings) console.error(f.code, f.detail)
 * ```
 */
export async function checkTls(
  host: string,
  port: number,
  options: CheckTlsOptions = {},
): Promise<TlsCheckResult> {
  if (typeof host !== 'string' || host === '' || host.length > 253)
    throw new TransportTargetError('the host must be a name or an IP address')
  if (!Number.isSafeInteger(port) || port < 1 || port > 65_535)
    throw new TransportTargetError('the port must be in 1..65535')
  const { timeoutMs, ca } = checkOptions(options)
  const clock = options.clock ?? systemClock
  const checkedAt = clock.now()
  const address = await resolveAddress(host)
  // SNI only for DNS names (RFC 6066 §3); an IP target is checked against the IP unless told otherwise
  const servername = options.servername ?? (isIP(host) === 0 ? host : undefined)
  const base: ProbeBase = { address, port, servername, timeoutMs, ...(ca === undefined ? {} : { ca }) }

  const protocols = await probeProtocols(base, host)
  const accepted = TLS_VERSIONS.filter((v) => protocols[v] === 'accepted')
  const enumerated = await Promise.all(accepted.map((v) => enumerate(base, v)))
  const suites: Partial<Record<TlsVersion, SuiteInfo[]>> = {}
  accepted.forEach((v, i) => {
    suites[v] = enumerated[i]?.suites ?? []
  })
  let inconclusive =
    TLS_VERSIONS.some((v) => protocols[v] === 'inconclusive') || enumerated.some((e) => e.inconclusive)

  // one handshake for the chain and the staple, at the best version the server takes
  const best = accepted.at(-1)
  let certificate: CertificateReport | null = null
  let ocsp: { stapled: boolean } | null = null
  if (best !== undefined) {
    const out = await chainAndStaple(base, best, servername ?? host, ca, clock)
    if (out.kind === 'accepted') {
      certificate = out.extra.certificate
      ocsp = { stapled: out.extra.stapled }
    } else inconclusive = true
  }
  const hsts: HstsReport =
    options.http !== false && best !== undefined ? await probeHsts(base, best, host) : { status: 'skipped' }
  const findings = judge(protocols, suites, certificate, ocsp, hsts, inconclusive)
  const all = accepted.flatMap((v) => suites[v] ?? [])
  return {
    format: 'transit-check/1',
    checkedAt: new Date(checkedAt).toISOString(),
    tool: { node: process.versions.node, openssl: process.versions.openssl },
    target: { host, address, port, servername: servername ?? null },
    protocols,
    suites,
    untested: untestable(),
    forwardSecrecy: all.length === 0 ? null : all.every((s) => s.forwardSecrecy),
    certificate,
    ocsp,
    hsts,
    findings,
    verdict: verdictOf(findings),
  }
}

/** What every probe of one target shares. */
type ProbeBase = Omit<HandshakeRequest, 'ciphers' | 'minVersion' | 'maxVersion'>

/** The address to connect to: the host itself when it is an IP, else its DNS answer. */
async function resolveAddress(host: string): Promise<string> {
  if (isIP(host) !== 0) return host
  try {
    return (await lookup(host)).address
  } catch (cause) {
    throw new TransportUnreachableError(`${host} does not resolve`, { cause })
  }
}

/** One handshake per TLS version, in parallel. @throws {TransportUnreachableError} when none connects. */
async function probeProtocols(base: ProbeBase, host: string): Promise<Record<TlsVersion, ProtocolStatus>> {
  const probes = await Promise.all(
    TLS_VERSIONS.map((v) =>
      handshake({ ...base, minVersion: v, maxVersion: v, ciphers: probeCiphers(v) }, () => undefined),
    ),
  )
  if (probes.every((p) => p.kind === 'unreachable')) {
    const code = probes[0]?.kind === 'unreachable' ? probes[0].code : 'ERR_UNKNOWN'
    throw new TransportUnreachableError(`no TCP connection to ${host} port ${base.port} (${code})`)
  }
  const protocols = {} as Record<TlsVersion, ProtocolStatus>
  TLS_VERSIONS.forEach((v, i) => {
    const k = probes[i]?.kind
    protocols[v] = k === 'accepted' ? 'accepted' : k === 'rejected' ? 'rejected' : 'inconclusive'
  })
  return protocols
}

/** A handshake at `best` asking for an OCSP staple: the certificate report and whether one was stapled. */
function chainAndStaple(
  base: ProbeBase,
  best: TlsVersion,
  name: string,
  ca: string[] | undefined,
  clock: Clock,
): Promise<HandshakeOutcome<{ certificate: CertificateReport | null; stapled: boolean }>> {
  return handshake(
    { ...base, minVersion: best, maxVersion: best, ciphers: probeCiphers(best), requestOCSP: true },
    (socket, staple) => ({
      certificate: certificateReport(socket, name, ca, clock.now()),
      stapled: staple.response !== null && staple.response.length > 0,
    }),
  )
}

/** One `HEAD /` over TLS at `best`, for the HSTS header. */
async function probeHsts(base: ProbeBase, best: TlsVersion, host: string): Promise<HstsReport> {
  const { servername, port } = base
  const hostHeader = `${servername ?? (isIP(host) === 6 ? `[${host}]` : host)}${port === 443 ? '' : `:${port}`}`
  const out = await handshake(
    { ...base, minVersion: best, maxVersion: best, ciphers: probeCiphers(best) },
    (socket: TLSSocket) => readHsts(socket, hostHeader, base.timeoutMs),
  )
  return out.kind === 'accepted' ? out.extra : { status: 'inconclusive' }
}

/** The findings of a check, most severe first. */
function judge(
  protocols: Record<TlsVersion, ProtocolStatus>,
  suites: Partial<Record<TlsVersion, SuiteInfo[]>>,
  certificate: CertificateReport | null,
  ocsp: { stapled: boolean } | null,
  hsts: HstsReport,
  inconclusive: boolean,
): TlsFinding[] {
  const findings: TlsFinding[] = []
  judgeProtocols(protocols, findings)
  judgeSuites(suites, findings)
  if (certificate !== null) judgeCertificate(certificate, findings)
  if (ocsp !== null && !ocsp.stapled) findings.push(finding('NO_OCSP_STAPLE', 'no OCSP response stapled'))
  judgeHsts(hsts, findings)
  if (inconclusive) findings.push(finding('INCONCLUSIVE', 'some probes got no answer within the time limit'))
  findings.sort((a, b) => ORDER[a.severity] - ORDER[b.severity])
  return findings
}

/** The one-line fix of a finding code (for reports and the CLI). */
export function fixFor(code: TlsFinding['code']): string {
  return TLS_FINDINGS[code].fix
}
