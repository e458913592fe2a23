/**
 * Envelope benchmarks, each side by side with its anchor in the same run (alternating rounds):
 * - 64 MiB streams (format v2, the default) vs raw node:crypto AES-256-GCM over the same bytes
 *   (≥ 0.85×), and v2 streams vs v1 streams (the issue 17 decision: streams move to v2);
 * - 1 KiB records, format v2, vs one raw createCipheriv/createDecipheriv call: uncached ≥ 0.35×,
 *   with the opt-in data-key cache ≥ 0.5× (issue 17 §1); and vs the AWS Encryption SDK for
 *   JavaScript (raw AES keyring, committing unsigned suite; its caching CMM with the same limits
 *   for the cached rows) ≥ 10×;
 * - the floor of each record and stream target, timed in the same alternating rounds (the
 *   harness's `floor` side; a missed target prints "missed: floor X×, ours Y×"): only the
 *   node:crypto calls the v2 format cannot do without, with nothing of ours between them.
 *   Cached record: HKDF-Expand-SHA-256 to 64 bytes, i.e. two HMAC-SHA-256 as four one-shot
 *   `hash` calls over inputs of the right sizes (the pads precomputed), and the frame GCM with the
 *   76-byte header as AAD. Uncached: also SHA-256 of the canonical context and the KEK unwrap (or
 *   wrap) GCM with its AAD. Streams: the same key schedule once, and one GCM context per 256 KiB
 *   frame (a fresh cipher, the header as AAD, a tag per frame) instead of one over 64 MiB: the
 *   ceiling of any v2 implementation on node:crypto;
 * - v2 records vs v1 records (same instance settings), to show what the format change buys;
 * - the CLI, 1 GiB through `safeguards encrypt | safeguards decrypt`: peak RSS (< 128 MiB), a
 *   custom-measure scenario defined in `cli-rss.ts`.
 * The cached scenarios decrypt a rotating set of 256 distinct records sharing one cached data key.
 */
import { createCipheriv, createDecipheriv, createSecretKey, hash, randomBytes } from 'node:crypto'
import {
  AlgorithmSuiteIdentifier,
  buildClient,
  CommitmentPolicy,
  getLocalCryptographicMaterialsCache,
  NodeCachingMaterialsManager,
  RawAesKeyringNode,
  RawAesWrappingSuiteIdentifier,
} from '@aws-crypto/client-node'
import type { OpSide, Scenario } from '../../../scripts/bench/types.ts'
import { createEnvelope, type Envelope, type FormatVersion, LocalKeyring } from '../src/index.js'
import { hkdfExpandSha256Into } from '../src/internal/kdf.js'
import { cliRssScenario } from './cli-rss.js'

const MiB = 1024 * 1024
const STREAM_BYTES = 64 * MiB
const CHUNK = 256 * 1024
const ROTATION = 256
const streamChunk = new Uint8Array(CHUNK).fill(0x5a)
const record = new Uint8Array(randomBytes(1024))
const context = { table: 'patients', column: 'notes', tenant: 'clinic-7' }
const rawKey = randomBytes(32)
// The data-key cache limits, the same on both sides.
const CACHE = { maxAge: 300_000, maxMessages: 65_536, maxBytes: 2 ** 32, maxEntries: 1000 }

// ---- the AWS Encryption SDK ----
const { encrypt: esdkEncrypt, decrypt: esdkDecrypt } = buildClient(
  CommitmentPolicy.REQUIRE_ENCRYPT_REQUIRE_DECRYPT,
)
const esdkKeyring = new RawAesKeyringNode({
  keyName: 'bench-key',
  keyNamespace: 'bench',
  unencryptedMasterKey: new Uint8Array(rawKey),
  wrappingSuite: RawAesWrappingSuiteIdentifier.AES256_GCM_IV12_TAG16_NO_PADDING,
})
const esdkSuite = AlgorithmSuiteIdentifier.ALG_AES256_GCM_IV12_TAG16_HKDF_SHA512_COMMIT_KEY
const esdkCachingCmm = new NodeCachingMaterialsManager({
  backingMaterials: esdkKeyring,
  cache: getLocalCryptographicMaterialsCache(CACHE.maxEntries),
  maxAge: CACHE.maxAge,
  maxMessagesEncrypted: CACHE.maxMessages,
  maxBytesEncrypted: CACHE.maxBytes,
  partition: 'bench',
})

/** One envelope instance under test with its ciphertexts (filled by `setup`). */
interface Subject {
  env: Envelope
  /** One record, or for a cached subject `ROTATION` records sharing a cached data key. */
  records: Uint8Array[]
  at: number
  stream: Uint8Array[]
}
const subjects = new Map<string, Subject>()
const subject = (name: string): Subject => subjects.get(name) as Subject
let esdkRecord: Uint8Array
let esdkCachedRecords: Uint8Array[] = []
let esdkAt = 0

async function pump(
  ts: TransformStream<Uint8Array, Uint8Array>,
  chunks: () => Iterator<Uint8Array>,
): Promise<number> {
  const it = chunks()
  const src = new ReadableStream<Uint8Array>({
    pull(c) {
      const n = it.next()
      if (n.done) c.close()
      else c.enqueue(n.value)
    },
  })
  let n = 0
  await src.pipeThrough(ts).pipeTo(
    new WritableStream({
      write: (c) => {
        n += c.length
      },
    }),
  )
  return n
}

function* plainChunks(): Iterator<Uint8Array> {
  for (let o = 0; o < STREAM_BYTES; o += CHUNK) yield streamChunk
}

/** Encrypts the 64 MiB stream and re-chunks the ciphertext as a file read would deliver it. */
async function streamCiphertext(env: Envelope): Promise<Uint8Array[]> {
  const out: Uint8Array[] = []
  await new ReadableStream<Uint8Array>({
    start(c) {
      for (let o = 0; o < STREAM_BYTES; o += CHUNK) c.enqueue(streamChunk)
      c.close()
    },
  })
    .pipeThrough(env.encryptStream(context))
    .pipeTo(new WritableStream({ write: (c) => void out.push(c) }))
  const all = new Uint8Array(out.reduce((n, c) => n + c.length, 0))
  let o = 0
  for (const c of out) {
    all.set(c, o)
    o += c.length
  }
  const chunks: Uint8Array[] = []
  for (let i = 0; i < all.length; i += CHUNK) chunks.push(all.subarray(i, i + CHUNK))
  return chunks
}

// ---- raw node:crypto: the anchors and the floors ----
let rawStream: { iv: Uint8Array; ct: Uint8Array[]; tag: Uint8Array }
let rawRecord: { iv: Uint8Array; ct: Uint8Array; tag: Uint8Array }

function gcmSeal(
  key: Uint8Array | ReturnType<typeof createSecretKey>,
  iv: Uint8Array,
  aad: Uint8Array,
  pt: Uint8Array,
) {
  const c = createCipheriv('aes-256-gcm', key, iv)
  if (aad.length > 0) c.setAAD(aad)
  const ct = c.update(pt)
  c.final()
  return { ct, tag: c.getAuthTag() }
}
function gcmOpen(
  key: Uint8Array | ReturnType<typeof createSecretKey>,
  iv: Uint8Array,
  aad: Uint8Array,
  ct: Uint8Array,
  tag: Uint8Array,
): Uint8Array {
  const d = createDecipheriv('aes-256-gcm', key, iv)
  if (aad.length > 0) d.setAAD(aad)
  d.setAuthTag(tag)
  const pt = d.update(ct)
  d.final()
  return pt
}

const rawStreamEncrypt = (): void => {
  const c = createCipheriv('aes-256-gcm', rawKey, randomBytes(12))
  for (let o = 0; o < STREAM_BYTES; o += CHUNK) c.update(streamChunk)
  c.final()
  c.getAuthTag()
}
const rawStreamDecrypt = (): void => {
  const d = createDecipheriv('aes-256-gcm', rawKey, rawStream.iv)
  d.setAuthTag(rawStream.tag)
  for (const c of rawStream.ct) d.update(c)
  d.final()
}
// The record anchors: one raw AES-256-GCM call over the same 1 KiB (encryption draws its IV).
const rawRecordEncrypt: OpSide = {
  name: 'node:crypto createCipheriv (raw GCM)',
  op: () => gcmSeal(rawKey, randomBytes(12), new Uint8Array(0), record).tag,
}
const rawRecordDecrypt: OpSide = {
  name: 'node:crypto createDecipheriv (raw GCM)',
  op: () => gcmOpen(rawKey, rawRecord.iv, new Uint8Array(0), rawRecord.ct, rawRecord.tag),
}

// The floor of one v2 record: what it needs from node:crypto and nothing else (no parsing, no
// context encoding, no output assembly, no provider, no promise).
const kek = createSecretKey(randomBytes(32))
const wrapAad = randomBytes(2 + 16 + 11 + 2 + 32) // u16 len ‖ keyRef ‖ "hge/v2/wrap" ‖ suite ‖ D
const canonical = randomBytes(49) // the canonical context of `context`
const info = randomBytes(6 + 2 + 32 + 32) // "hge/v2" ‖ suite ‖ D ‖ messageId
const A = randomBytes(76) // the header's authenticated part: the frame's AAD
const NONCE = new Uint8Array(12).fill(0, 0, 11).fill(1, 11) // 00×7 ‖ u32 0 ‖ final
const okm = new Uint8Array(64)
const pool = randomBytes(64 * 4096)
let poolAt = 0
function take(n: number): Uint8Array {
  if (poolAt + n > pool.length) poolAt = 0
  const out = pool.subarray(poolAt, poolAt + n)
  poolAt += n
  return out
}
let floor: { dek: Uint8Array; edk: Uint8Array; frame: { ct: Uint8Array; tag: Uint8Array } }
let floorKey: Uint8Array
// The four HMAC-SHA-256 inputs of HKDF-Expand(DEK, info, 64): (K⊕ipad ‖ info ‖ 1),
// (K⊕opad ‖ inner digest), (K⊕ipad ‖ T(1) ‖ info ‖ 2), (K⊕opad ‖ inner digest); bare one-shot hashes.
const hmacInputs = [64 + info.length + 1, 64 + 32, 64 + 32 + info.length + 1, 64 + 32].map((n) =>
  randomBytes(n),
)
/** The key schedule's primitives: four SHA-256 calls (two HMAC-SHA-256), latin1 out as ours. */
function floorSchedule(): void {
  for (const m of hmacInputs) hash('sha256', m, 'latin1' as 'hex')
}
/** The key schedule (bare hashes) and the frame, sealed or opened. */
function floorMessage(open: boolean): Uint8Array {
  floorSchedule()
  const key = floorKey
  return open ? gcmOpen(key, NONCE, A, floor.frame.ct, floor.frame.tag) : gcmSeal(key, NONCE, A, record).tag
}
const floors = {
  encrypt: (): Uint8Array => {
    const rnd = take(64 + 12) // DEK, message id, wrap IV
    hash('sha256', canonical, 'latin1' as 'hex') // D, one-shot as the library does (latin1 string)
    gcmSeal(kek, rnd.subarray(64, 76), wrapAad, rnd.subarray(0, 32))
    return floorMessage(false)
  },
  decrypt: (): Uint8Array => {
    hash('sha256', canonical, 'latin1' as 'hex') // D, one-shot as the library does (latin1 string)
    const e = floor.edk
    gcmOpen(kek, e.subarray(0, 12), wrapAad, e.subarray(12, 44), e.subarray(44))
    return floorMessage(true)
  },
  cachedEncrypt: (): Uint8Array => {
    take(32) // the message id
    return floorMessage(false)
  },
  cachedDecrypt: (): Uint8Array => floorMessage(true),
}

/** The floor of a v2 stream: what its framing needs from node:crypto, per 256 KiB frame. */
let floorFrame: { ct: Uint8Array; tag: Uint8Array }
const floorStreamEncrypt = (): void => {
  floorSchedule()
  for (let o = 0; o < STREAM_BYTES; o += CHUNK) {
    const c = createCipheriv('aes-256-gcm', floorKey, NONCE)
    c.setAAD(A)
    c.update(streamChunk)
    c.final()
    c.getAuthTag()
  }
}
const floorStreamDecrypt = (): void => {
  floorSchedule()
  // every frame opens the same sealed frame: the same calls and bytes as distinct frames
  for (let o = 0; o < STREAM_BYTES; o += CHUNK) {
    const d = createDecipheriv('aes-256-gcm', floorKey, NONCE)
    d.setAAD(A)
    d.setAuthTag(floorFrame.tag)
    d.update(floorFrame.ct)
    d.final()
  }
}

let ready: Promise<void> | undefined
/** Shared by every scenario; runs once. */
function setup(): Promise<void> {
  ready ??= setupOnce()
  return ready
}

async function setupOnce(): Promise<void> {
  const dek = randomBytes(32)
  const iv = randomBytes(12)
  const w = gcmSeal(kek, iv, wrapAad, dek)
  hkdfExpandSha256Into(okm, dek, info, 'node')
  floorKey = okm.slice(0, 32)
  floorFrame = gcmSeal(floorKey, NONCE, A, streamChunk)
  floor = {
    dek,
    edk: new Uint8Array([...iv, ...w.ct, ...w.tag]),
    frame: gcmSeal(okm.subarray(0, 32), NONCE, A, record),
  }
  const riv = randomBytes(12)
  rawRecord = { iv: riv, ...gcmSeal(rawKey, riv, new Uint8Array(0), record) }
  const siv = randomBytes(12)
  const c = createCipheriv('aes-256-gcm', rawKey, siv)
  const sct: Uint8Array[] = []
  for (let i = 0; i < STREAM_BYTES; i += CHUNK) sct.push(c.update(streamChunk))
  c.final()
  rawStream = { iv: siv, ct: sct, tag: c.getAuthTag() }
  for (const formatVersion of [1, 2] as FormatVersion[]) {
    for (const cached of [false, true]) {
      const env = createEnvelope({
        provider: await LocalKeyring.inMemory(),
        formatVersion,
        ...(cached ? { dataKeyCache: CACHE } : {}),
      })
      const records: Uint8Array[] = []
      for (let i = 0; i < (cached ? ROTATION : 1); i++) records.push(await env.encrypt(record, context))
      const stream = cached ? [] : await streamCiphertext(env)
      subjects.set(`v${formatVersion}${cached ? ' cached' : ''}`, { env, records, at: 0, stream })
    }
  }
  esdkRecord = (await esdkEncrypt(esdkKeyring, record, { encryptionContext: context, suiteId: esdkSuite }))
    .result
  esdkCachedRecords = []
  for (let i = 0; i < ROTATION; i++)
    esdkCachedRecords.push(
      (await esdkEncrypt(esdkCachingCmm, record, { encryptionContext: context, suiteId: esdkSuite })).result,
    )
}

type Dir = 'encrypt' | 'decrypt'
/** A record operation of a subject (`v2`, `v2 cached`, `v1`, `v1 cached`). */
function recordOp(name: string, dir: Dir): OpSide {
  const cached = name.endsWith('cached')
  const what = cached ? `, cached data key${dir === 'decrypt' ? `, ${ROTATION} distinct records` : ''}` : ''
  return {
    name: `envelope.${dir} (format ${name.slice(0, 2)}${what})`,
    op:
      dir === 'encrypt'
        ? () => subject(name).env.encrypt(record, context)
        : () => {
            const s = subject(name)
            return s.env.decrypt(s.records[s.at++ % s.records.length] as Uint8Array, context)
          },
  }
}
const rawAnchor = (dir: Dir): OpSide => (dir === 'encrypt' ? rawRecordEncrypt : rawRecordDecrypt)
const esdkAnchor = (dir: Dir, cached: boolean): OpSide => ({
  name: cached
    ? '@aws-crypto/client-node NodeCachingMaterialsManager over a raw AES keyring, same limits'
    : '@aws-crypto/client-node raw AES keyring (committing, unsigned suite)',
  op:
    dir === 'encrypt'
      ? () =>
          esdkEncrypt(cached ? esdkCachingCmm : esdkKeyring, record, {
            encryptionContext: context,
            suiteId: esdkSuite,
          })
      : () =>
          cached
            ? esdkDecrypt(esdkCachingCmm, esdkCachedRecords[esdkAt++ % ROTATION] as Uint8Array)
            : esdkDecrypt(esdkKeyring, esdkRecord),
})

/** The record scenarios of one direction, with and without the data-key cache. */
function recordScenarios(dir: Dir): Scenario[] {
  const out: Scenario[] = []
  for (const cached of [false, true]) {
    const v2 = cached ? 'v2 cached' : 'v2'
    const label = `envelope ${dir}, 1 KiB record${cached ? ', data-key cache' : ''}`
    const target = cached ? 0.5 : 0.35
    const floorOp = floors[cached ? (dir === 'encrypt' ? 'cachedEncrypt' : 'cachedDecrypt') : dir]
    out.push(
      {
        name: label,
        unit: 'ops/s',
        setup,
        ours: recordOp(v2, dir),
        anchor: rawAnchor(dir),
        floor: {
          name: `bare node:crypto: ${cached ? '' : `${dir === 'encrypt' ? 'wrap' : 'unwrap'} GCM + SHA-256 + `}2 HMAC-SHA-256 (4 hash calls) + frame GCM`,
          op: floorOp,
        },
        target: {
          ratio: target,
          text: `≥ ${target}× raw ${dir === 'encrypt' ? 'createCipheriv' : 'createDecipheriv'}`,
        },
      },
      {
        name: `${label}, vs AWS Encryption SDK`,
        unit: 'ops/s',
        setup,
        ours: recordOp(v2, dir),
        anchor: esdkAnchor(dir, cached),
        target: { ratio: 10, text: '≥ 10× AWS Encryption SDK' },
      },
      {
        name: `${label}: format v2 vs v1`,
        unit: 'ops/s',
        setup,
        ours: recordOp(v2, dir),
        anchor: recordOp(cached ? 'v1 cached' : 'v1', dir),
        target: { text: 'none: what the format change buys' },
      },
    )
  }
  return out
}

/** The stream scenarios of one direction: v2 vs raw node:crypto, and v2 vs v1. */
function streamScenarios(dir: Dir): Scenario[] {
  const op = (name: string): OpSide => ({
    name: `${dir}Stream (format ${name}, default 256 KiB frames)`,
    op:
      dir === 'encrypt'
        ? () => pump(subject(name).env.encryptStream(context), plainChunks)
        : () => pump(subject(name).env.decryptStream(context), () => subject(name).stream[Symbol.iterator]()),
  })
  const base = { unit: 'MB/s', bytesPerOp: STREAM_BYTES, setup, timeMs: 10_000, ours: op('v2') }
  return [
    {
      ...base,
      name: `envelope stream ${dir}, 64 MiB`,
      anchor: {
        name: 'node:crypto AES-256-GCM, one message',
        op: dir === 'encrypt' ? rawStreamEncrypt : rawStreamDecrypt,
      },
      floor: {
        name: 'bare node:crypto: the key schedule once, one GCM per 256 KiB frame (header as AAD)',
        op: dir === 'encrypt' ? floorStreamEncrypt : floorStreamDecrypt,
      },
      target: { ratio: 0.85, text: '≥ 0.85× node:crypto' },
    },
    {
      ...base,
      name: `envelope stream ${dir}, 64 MiB: format v2 vs v1`,
      anchor: op('v1'),
      target: { text: 'none: the v2 decision for streams' },
    },
  ]
}

const scenarios: Scenario[] = [
  ...streamScenarios('encrypt'),
  ...streamScenarios('decrypt'),
  ...recordScenarios('encrypt'),
  ...recordScenarios('decrypt'),
  cliRssScenario,
]
export default scenarios
