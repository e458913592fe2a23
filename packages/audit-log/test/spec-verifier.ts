/**
 * An audit log verifier written from `docs/formats/audit-log-v1.md` alone, as someone without this
 * package would write it: it shares no code with `src/` (only `node:crypto` and `node:fs`), and
 * each step cites the section of the format document it implements. The tests run it on the
 * committed vectors and on logs the package writes, and expect it to agree with `verifyLog`.
 */
import { createHash, createPublicKey, verify as ed25519Verify } from 'node:crypto'
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs'
import { join } from 'node:path'

/** A public key the verifier trusts: its key id and its Ed25519 public key (base64url `x`). */
export interface TrustedKey {
  kid: string
  x: string
}

/** What the verifier found. */
export interface SpecReport {
  /** Errors: tampering or a broken rule. Empty when the log verifies. */
  errors: string[]
  /** Warnings: a torn tail, an unanchored tail, an empty log. */
  warnings: string[]
  /** Records read. */
  records: number
  /** Entry hashes (hex), by seq. */
  entryHashes: string[]
  /** The base64 root of every checkpoint size met. */
  roots: Record<number, string>
}

/** A checked checkpoint payload (section 4.1). */
export interface CheckpointPayload {
  index: number
  origin: string
  prev: string
  root: string
  size: number
  timestamp: string
  typ: string
  v: number
}

const HEX64 = /^[0-9a-f]{64}$/
const TIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/
const STREAM = /^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/
const B64URL = /^[A-Za-z0-9_-]*$/

function sha256(...parts: Uint8Array[]): Uint8Array {
  const h = createHash('sha256')
  for (const p of parts) h.update(p)
  return new Uint8Array(h.digest())
}

const hex = (b: Uint8Array): string => Buffer.from(b).toString('hex')
const utf8 = (s: string): Uint8Array => new Uint8Array(Buffer.from(s, 'utf8'))
const same = (a: Uint8Array, b: Uint8Array): boolean => a.length === b.length && a.every((x, i) => x === b[i])

/** Section 1: canonical JSON (RFC 8785) of the values this format uses. */
export function canonical(v: unknown): string {
  if (v === null || typeof v === 'boolean' || typeof v === 'string') return JSON.stringify(v)
  if (typeof v === 'number') {
    if (!Number.isSafeInteger(v) || Object.is(v, -0)) throw new Error('not a safe integer')
    return String(v)
  }
  if (Array.isArray(v)) return `[${v.map(canonical).join(',')}]`
  if (typeof v === 'object') {
    // sorted by UTF-16 code units, which is how JavaScript compares strings
    const o = v as Record<string, unknown>
    const names = Object.keys(o).sort((a, b) => (a < b ? -1 : a > b ? 1 : 0))
    return `{${names.map((k) => `${JSON.stringify(k)}:${canonical(o[k])}`).join(',')}}`
  }
  throw new Error('not a JSON value')
}

/** Parses `text` and returns it only if it is canonical JSON of an object with exactly `members`. */
function canonicalObject(text: string, members: readonly string[]): Record<string, unknown> | null {
  let v: unknown
  try {
    v = JSON.parse(text)
    if (canonical(v) !== text) return null
  } catch {
    return null
  }
  if (typeof v !== 'object' || v === null || Array.isArray(v)) return null
  const names = Object.keys(v).sort()
  if (names.length !== members.length || names.some((n, i) => n !== [...members].sort()[i])) return null
  return v as Record<string, unknown>
}

function base64url(text: unknown): Uint8Array | null {
  if (typeof text !== 'string' || !B64URL.test(text)) return null
  const b = Buffer.from(text, 'base64url')
  return b.toString('base64url') === text ? new Uint8Array(b) : null
}

/** Section 2.2: the entry hash, SHA-256(0x00 ‖ record bytes). */
export function entryHash(recordBytes: Uint8Array): Uint8Array {
  return sha256(Uint8Array.of(0), recordBytes)
}

/** Section 3: MTH over the leaf hashes `leaves[lo … hi−1]`. */
export function merkleRoot(leaves: readonly Uint8Array[], lo = 0, hi = leaves.length): Uint8Array {
  const n = hi - lo
  if (n === 0) return sha256(new Uint8Array(0))
  if (n === 1) return leaves[lo]!
  let k = 1
  while (k * 2 < n) k *= 2
  return sha256(Uint8Array.of(1), merkleRoot(leaves, lo, lo + k), merkleRoot(leaves, lo + k, hi))
}

/**
 * Section 4.2 then 4.1: checks a JWS text against the trusted keys and returns its payload and root,
 * or the reason it fails.
 */
export function checkCheckpoint(
  jwsText: string,
  keys: readonly TrustedKey[],
): { payload: CheckpointPayload; root: Uint8Array } | { error: string } {
  const jws = canonicalObject(jwsText, ['payload', 'protected', 'signature'])
  if (jws === null) return { error: 'JWS text is not the canonical flattened JSON of three members' }
  const protectedBytes = base64url(jws.protected)
  const payloadBytes = base64url(jws.payload)
  const signature = base64url(jws.signature)
  if (protectedBytes === null || payloadBytes === null || signature === null)
    return { error: 'JWS member is not base64url' }
  let header: Record<string, unknown>
  try {
    header = JSON.parse(Buffer.from(protectedBytes).toString('utf8'))
  } catch {
    return { error: 'protected header is not JSON' }
  }
  if (header.typ !== 'audit-checkpoint+jws') return { error: 'wrong typ' }
  if (header.alg !== 'Ed25519' && header.alg !== 'EdDSA')
    return { error: `alg ${String(header.alg)} refused` }
  const key = keys.find((k) => k.kid === header.kid)
  if (key === undefined) return { error: 'unknown kid' }
  const publicKey = createPublicKey({ key: { kty: 'OKP', crv: 'Ed25519', x: key.x }, format: 'jwk' })
  const input = Buffer.from(`${jws.protected as string}.${jws.payload as string}`, 'ascii')
  if (!ed25519Verify(null, input, publicKey, signature)) return { error: 'bad signature' }
  const p = canonicalObject(Buffer.from(payloadBytes).toString('utf8'), [
    'index',
    'origin',
    'prev',
    'root',
    'size',
    'timestamp',
    'typ',
    'v',
  ])
  if (p === null) return { error: 'payload is not canonical JSON with the v1 members' }
  const ok =
    p.typ === 'safeguards.audit-checkpoint' &&
    p.v === 1 &&
    Number.isSafeInteger(p.index) &&
    (p.index as number) >= 0 &&
    Number.isSafeInteger(p.size) &&
    (p.size as number) >= 0 &&
    typeof p.origin === 'string' &&
    typeof p.prev === 'string' &&
    HEX64.test(p.prev) &&
    typeof p.timestamp === 'string' &&
    TIME.test(p.timestamp) &&
    typeof p.root === 'string' &&
    /^[A-Za-z0-9+/]{43}=$/.test(p.root)
  if (!ok) return { error: 'payload members out of range' }
  const root = new Uint8Array(Buffer.from(p.root as string, 'base64'))
  if (root.length !== 32 || Buffer.from(root).toString('base64') !== p.root)
    return { error: 'root is not 32 bytes' }
  return { payload: p as unknown as CheckpointPayload, root }
}

interface Checked {
  where: string
  jws: string
  payload: CheckpointPayload
  root: Uint8Array
}

/**
 * Section 5.1: verifies a file log directory (records, checkpoints), and section 5.3 its directory
 * anchor when given.
 */
export function verifyFileLog(dir: string, keys: readonly TrustedKey[], anchorDir?: string): SpecReport {
  const errors: string[] = []
  const warnings: string[] = []
  const meta = readFileSync(join(dir, 'stream.json'), 'utf8')
  const streamDoc = canonicalObject(meta.endsWith('\n') ? meta.slice(0, -1) : '', ['stream', 'v'])
  if (streamDoc === null || streamDoc.v !== 1 || typeof streamDoc.stream !== 'string')
    throw new Error('stream.json is not {"stream","v":1}')
  const stream = streamDoc.stream
  if (!STREAM.test(stream)) throw new Error('bad stream id')

  // 2.1, 2.2: records in segment order, one per line
  const leaves: Uint8Array[] = []
  let prev = '0'.repeat(64)
  const names = readdirSync(join(dir, 'segments')).filter((n) => /^\d{20}\.jsonl$/.test(n))
  names.sort()
  for (const [si, name] of names.entries()) {
    const text = readFileSync(join(dir, 'segments', name), 'utf8')
    const lines = text.split('\n')
    const tail = lines.pop()!
    if (tail !== '') {
      if (si === names.length - 1) warnings.push(`torn tail: ${tail.length} bytes after the last record`)
      else errors.push(`segment ${name}: last line has no newline`)
    }
    if (lines.length > 0 && Number(name.slice(0, 20)) !== leaves.length)
      errors.push(`segment ${name} does not start at seq ${leaves.length}`)
    for (const line of lines) {
      const seq = leaves.length
      const r = canonicalObject(line, ['event', 'prev', 'recorded', 'seq', 'stream', 'v'])
      if (r === null) errors.push(`record ${seq}: not a canonical v1 envelope`)
      else {
        if (r.v !== 1 || r.stream !== stream || r.seq !== seq)
          errors.push(`record ${seq}: wrong v, stream or seq`)
        if (typeof r.event !== 'object' || r.event === null || Array.isArray(r.event))
          errors.push(`record ${seq}: event is not an object`)
        if (typeof r.recorded !== 'string' || !TIME.test(r.recorded))
          errors.push(`record ${seq}: bad recorded`)
        if (r.prev !== prev) errors.push(`record ${seq}: prev does not link`)
      }
      const h = entryHash(utf8(line))
      leaves.push(h)
      prev = hex(h)
    }
  }
  if (leaves.length === 0) warnings.push('empty log')

  const roots: Record<number, string> = {}
  const bySize = new Map<number, Uint8Array>()
  const checkRoot = (c: Checked): void => {
    if (c.payload.origin !== stream) errors.push(`${c.where}: another stream`)
    if (c.payload.size > leaves.length) {
      errors.push(
        `${c.where}: commits to ${c.payload.size} records, the log has ${leaves.length} (truncated)`,
      )
      return
    }
    const root = merkleRoot(leaves, 0, c.payload.size)
    roots[c.payload.size] = Buffer.from(root).toString('base64')
    if (!same(root, c.root)) errors.push(`${c.where}: root does not match the records`)
    const other = bySize.get(c.payload.size)
    if (other !== undefined && !same(other, c.root)) errors.push(`${c.where}: equivocation`)
    bySize.set(c.payload.size, c.root)
  }

  // 5.1 and 4.3: the stored checkpoint chain
  const stored: string[] = []
  const cpPath = join(dir, 'checkpoints.jsonl')
  const cpLines = existsSync(cpPath) ? readFileSync(cpPath, 'utf8').split('\n') : ['']
  if (cpLines.pop() !== '') warnings.push('torn checkpoint line')
  let last: Checked | null = null
  for (const [i, line] of cpLines.entries()) {
    const where = `stored checkpoint ${i}`
    const o = canonicalObject(line, ['jws', 'size'])
    if (o === null || typeof o.jws !== 'string') {
      errors.push(`${where}: not {"jws","size"}`)
      last = null
      continue
    }
    stored.push(o.jws)
    if (stored.indexOf(o.jws) !== i) errors.push(`${where}: replay`)
    const c = checkCheckpoint(o.jws, keys)
    if ('error' in c) {
      errors.push(`${where}: ${c.error}`)
      last = null
      continue
    }
    const cp: Checked = { where, jws: o.jws, ...c }
    if (o.size !== cp.payload.size) errors.push(`${where}: stored size differs from the signed size`)
    const expectPrev = i === 0 ? '0'.repeat(64) : hex(sha256(utf8(stored[i - 1]!)))
    if (cp.payload.index !== i || cp.payload.prev !== expectPrev) errors.push(`${where}: out of the chain`)
    if (last !== null && cp.payload.size < last.payload.size) errors.push(`${where}: size rollback`)
    if (last !== null && Date.parse(cp.payload.timestamp) < Date.parse(last.payload.timestamp))
      errors.push(`${where}: timestamp rollback`)
    checkRoot(cp)
    last = cp
  }

  // 5.3: the directory anchor
  let anchored = 0
  if (anchorDir !== undefined) {
    if (!existsSync(anchorDir) || !statSync(anchorDir).isDirectory())
      throw new Error('anchor directory missing')
    const sub = join(anchorDir, stream)
    const files = existsSync(sub) ? readdirSync(sub).filter((n) => /^\d{20}\.json$/.test(n)) : []
    if (files.length === 0 && stored.length > 0) errors.push('anchor holds no checkpoint of this stream')
    for (const name of files.sort()) {
      const where = `anchored checkpoint ${name}`
      const text = readFileSync(join(sub, name), 'utf8')
      const o = canonicalObject(text.endsWith('\n') ? text.slice(0, -1) : '', ['index', 'jws', 'size'])
      if (o === null || typeof o.jws !== 'string' || o.index !== Number(name.slice(0, 20))) {
        errors.push(`${where}: malformed`)
        continue
      }
      if (stored[o.index as number] === undefined) errors.push(`${where}: missing from the log (rollback)`)
      else if (stored[o.index as number] !== o.jws) errors.push(`${where}: differs from the stored one`)
      const c = checkCheckpoint(o.jws, keys)
      if ('error' in c) {
        errors.push(`${where}: ${c.error}`)
        continue
      }
      checkRoot({ where, jws: o.jws, ...c })
      if (c.payload.size <= leaves.length && same(merkleRoot(leaves, 0, c.payload.size), c.root))
        anchored = Math.max(anchored, c.payload.size)
    }
    if (leaves.length > anchored) warnings.push(`unanchored tail from record ${anchored}`)
  }
  return { errors, warnings, records: leaves.length, entryHashes: leaves.map(hex), roots }
}

const b64 = (text: unknown): Uint8Array | null => {
  if (typeof text !== 'string' || !/^[A-Za-z0-9+/]{43}=$/.test(text)) return null
  return new Uint8Array(Buffer.from(text, 'base64'))
}
const node = (l: Uint8Array, r: Uint8Array): Uint8Array => sha256(Uint8Array.of(1), l, r)
/** A right shift by one, for any safe integer. */
const half = (n: number): number => Math.floor(n / 2)

/** RFC 9162 §2.1.3.2, as section 6.1 asks. */
export function verifyInclusionPath(
  leaf: Uint8Array,
  index: number,
  size: number,
  path: readonly Uint8Array[],
  root: Uint8Array,
): boolean {
  if (index >= size) return false
  let fn = index
  let sn = size - 1
  let r = leaf
  for (const p of path) {
    if (sn === 0) return false
    if (fn % 2 === 1 || fn === sn) {
      r = node(p, r)
      if (fn % 2 === 0) while (fn % 2 === 0 && fn !== 0) [fn, sn] = [half(fn), half(sn)]
    } else r = node(r, p)
    ;[fn, sn] = [half(fn), half(sn)]
  }
  return sn === 0 && same(r, root)
}

/** RFC 9162 §2.1.4.2, as section 6.2 asks (sizes ≥ 1; equal sizes need an empty proof). */
export function verifyConsistencyPath(
  first: number,
  second: number,
  firstRoot: Uint8Array,
  secondRoot: Uint8Array,
  path: readonly Uint8Array[],
): boolean {
  if (first < 1 || second < first) return false
  if (first === second) return path.length === 0 && same(firstRoot, secondRoot)
  if (path.length === 0) return false
  const proof = (first & (first - 1)) === 0 ? [firstRoot, ...path] : [...path]
  let fn = first - 1
  let sn = second - 1
  while (fn % 2 === 1) [fn, sn] = [half(fn), half(sn)]
  let fr = proof[0]!
  let sr = proof[0]!
  for (const c of proof.slice(1)) {
    if (sn === 0) return false
    if (fn % 2 === 1 || fn === sn) {
      fr = node(c, fr)
      sr = node(c, sr)
      if (fn % 2 === 0) while (fn % 2 === 0 && fn !== 0) [fn, sn] = [half(fn), half(sn)]
    } else sr = node(sr, c)
    ;[fn, sn] = [half(fn), half(sn)]
  }
  return sn === 0 && same(fr, firstRoot) && same(sr, secondRoot)
}

/** Section 6.1: true when an inclusion bundle holds. */
export function checkInclusionBundle(bundle: Record<string, unknown>, keys: readonly TrustedKey[]): boolean {
  if (bundle.typ !== 'safeguards.audit-inclusion-proof' || bundle.v !== 1) return false
  const cp = bundle.checkpoint as { size?: unknown; jws?: unknown } | undefined
  if (typeof cp?.jws !== 'string' || typeof bundle.record !== 'string' || !Array.isArray(bundle.proof))
    return false
  const c = checkCheckpoint(cp.jws, keys)
  if ('error' in c || c.payload.origin !== bundle.stream || c.payload.size !== cp.size) return false
  let record: Record<string, unknown>
  try {
    record = JSON.parse(bundle.record)
  } catch {
    return false
  }
  if (record.stream !== bundle.stream || record.seq !== bundle.seq || !Number.isSafeInteger(bundle.seq))
    return false
  const path = bundle.proof.map(b64)
  if (path.some((p) => p === null)) return false
  return verifyInclusionPath(
    entryHash(utf8(bundle.record)),
    bundle.seq as number,
    c.payload.size,
    path as Uint8Array[],
    c.root,
  )
}

/** Section 6.2: true when a consistency bundle holds. */
export function checkConsistencyBundle(
  bundle: Record<string, unknown>,
  keys: readonly TrustedKey[],
): boolean {
  if (bundle.typ !== 'safeguards.audit-consistency-proof' || bundle.v !== 1 || !Array.isArray(bundle.proof))
    return false
  const from = bundle.from as { size?: unknown; jws?: unknown } | undefined
  const to = bundle.to as { size?: unknown; jws?: unknown } | undefined
  if (typeof from?.jws !== 'string' || typeof to?.jws !== 'string') return false
  const a = checkCheckpoint(from.jws, keys)
  const b = checkCheckpoint(to.jws, keys)
  if ('error' in a || 'error' in b) return false
  if (a.payload.origin !== bundle.stream || b.payload.origin !== bundle.stream) return false
  if (a.payload.size !== from.size || b.payload.size !== to.size) return false
  const path = bundle.proof.map(b64)
  if (path.some((p) => p === null)) return false
  return verifyConsistencyPath(a.payload.size, b.payload.size, a.root, b.root, path as Uint8Array[])
}
