/**
 * Envelope benchmarks, each side by side with the anchor the issue names:
 * - 64 MiB streaming encrypt/decrypt vs raw node:crypto AES-256-GCM over the same bytes (≥ 0.85×);
 * - 1 KiB records vs a raw createCipheriv/createDecipheriv call (≥ 0.4×) and vs the AWS Encryption
 *   SDK for JavaScript with a raw AES keyring and its committing, unsigned suite (≥ 3×);
 * - the CLI, 1 GiB through `safeguards encrypt | safeguards decrypt`: peak RSS (< 128 MiB), a
 *   custom-measure scenario defined in `cli-rss.ts`;
 * - for the record targets, the floor: the node:crypto primitives one v1 record cannot do without
 *   (the KEK wrap, HKDF-SHA-512, the header tag, the frame), timed bare against the same anchor.
 *   Its ratio is the ceiling any v1 implementation on node:crypto can reach;
 * - the same record targets with the opt-in data-key cache (same limits on both sides: 5 min,
 *   2^16 messages, 4 GiB per data key, 1000 entries): against raw node:crypto, and against the
 *   AWS Encryption SDK with its own caching CMM (NodeCachingMaterialsManager over
 *   getLocalCryptographicMaterialsCache), decrypting a rotating set of 256 distinct records that
 *   share a cached data key; and the floor with a cached data key (HKDF-SHA-512, header GMAC,
 *   frame GCM: no wrap, no unwrap).
 */
import { createCipheriv, createDecipheriv, createSecretKey, randomBytes } from 'node:crypto'
import {
  AlgorithmSuiteIdentifier,
  buildClient,
  CommitmentPolicy,
  getLocalCryptographicMaterialsCache,
  NodeCachingMaterialsManager,
  RawAesKeyringNode,
  RawAesWrappingSuiteIdentifier,
} from '@aws-crypto/client-node'
import type { Scenario } from '../../../scripts/bench/types.ts'
import { createEnvelope, type Envelope, LocalKeyring } from '../src/index.js'
import { hkdf } from '../src/internal/kdf.js'
import { cliRssScenario } from './cli-rss.js'

const MiB = 1024 * 1024
const STREAM_BYTES = 64 * MiB
const CHUNK = 256 * 1024
const streamChunk = new Uint8Array(CHUNK).fill(0x5a)
const record = new Uint8Array(randomBytes(1024))
const context = { table: 'patients', column: 'notes', tenant: 'clinic-7' }
const rawKey = randomBytes(32)

let env: Envelope
let streamCiphertext: Uint8Array[] = []
let recordCiphertext: Uint8Array
let rawStreamCt: Uint8Array[] = []
let rawStreamTag: Uint8Array
let rawRecord: { iv: Uint8Array; ct: Uint8Array; tag: Uint8Array }
let esdkCiphertext: Uint8Array

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

// The data-key cache limits, the same on both sides.
const CACHE = { maxAge: 300_000, maxMessages: 65_536, maxBytes: 2 ** 32, maxEntries: 1000 }
const esdkCachingCmm = new NodeCachingMaterialsManager({
  backingMaterials: esdkKeyring,
  cache: getLocalCryptographicMaterialsCache(CACHE.maxEntries),
  maxAge: CACHE.maxAge,
  maxMessagesEncrypted: CACHE.maxMessages,
  maxBytesEncrypted: CACHE.maxBytes,
  partition: 'bench',
})
const ROTATION = 256
let cachedEnv: Envelope
let cachedRecords: Uint8Array[] = []
let esdkCachedRecords: Uint8Array[] = []
let cachedAt = 0
let esdkCachedAt = 0

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

function rawStreamEncrypt(): void {
  const c = createCipheriv('aes-256-gcm', rawKey, randomBytes(12))
  for (let o = 0; o < STREAM_BYTES; o += CHUNK) c.update(streamChunk)
  c.final()
  c.getAuthTag()
}

// The floor of one record: what v1 needs from node:crypto and nothing else (no parsing, no
// context encoding, no allocation of the output, no provider, no promise).
const kek = createSecretKey(randomBytes(32))
const wrapAadBytes = randomBytes(2 + 16 + 11 + 2 + 32) // u16 len ‖ keyRef ‖ "hge/v1/wrap" ‖ suite ‖ digest
const infoBytes = randomBytes(6 + 2 + 32) // "hge/v1" ‖ suite ‖ SHA-256(context)
const headerAad = randomBytes(150 + 49) // header through the commitment ‖ canonical context
const HEADER_IV = new Uint8Array(12).fill(0xff)
const pool = randomBytes(64 * 4096)
let poolAt = 0
function take(n: number): Uint8Array {
  if (poolAt + n > pool.length) poolAt = 0
  const out = pool.subarray(poolAt, poolAt + n)
  poolAt += n
  return out
}
let floorEdk: Uint8Array
let floorTag: Uint8Array
let floorFrame: { ct: Uint8Array; tag: Uint8Array }
function gcmSeal(
  key: Uint8Array | ReturnType<typeof createSecretKey>,
  iv: Uint8Array,
  aad: Uint8Array,
  pt: Uint8Array,
) {
  const c = createCipheriv('aes-256-gcm', key, iv)
  c.setAAD(aad)
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
) {
  const d = createDecipheriv('aes-256-gcm', key, iv)
  d.setAAD(aad)
  d.setAuthTag(tag)
  const pt = d.update(ct)
  d.final()
  return pt
}
function floorEncrypt(): Uint8Array {
  const rnd = take(64 + 12) // DEK, message id, wrap IV
  const dek = rnd.subarray(0, 32)
  gcmSeal(kek, rnd.subarray(64, 76), wrapAadBytes, dek)
  const okm = hkdf('sha512', dek, rnd.subarray(32, 64), infoBytes, 71)
  const key = okm.subarray(0, 32)
  gcmSeal(key, HEADER_IV, headerAad, new Uint8Array(0))
  return gcmSeal(key, okm.subarray(32, 44), okm.subarray(44, 50), record).tag
}
function floorDecrypt(): Uint8Array {
  const dek = gcmOpen(
    kek,
    floorEdk.subarray(0, 12),
    wrapAadBytes,
    floorEdk.subarray(12, 44),
    floorEdk.subarray(44),
  )
  const okm = hkdf('sha512', dek, infoBytes.subarray(0, 32), infoBytes, 71)
  const key = okm.subarray(0, 32)
  gcmOpen(key, HEADER_IV, headerAad, new Uint8Array(0), floorTag)
  return gcmOpen(key, okm.subarray(32, 44), okm.subarray(44, 50), floorFrame.ct, floorFrame.tag)
}
function floorSetup(): void {
  const dek = randomBytes(32)
  floorDek = dek
  const iv = randomBytes(12)
  const w = gcmSeal(kek, iv, wrapAadBytes, dek)
  floorEdk = new Uint8Array([...iv, ...w.ct, ...w.tag])
  const okm = hkdf('sha512', dek, infoBytes.subarray(0, 32), infoBytes, 71)
  const key = okm.subarray(0, 32)
  floorTag = gcmSeal(key, HEADER_IV, headerAad, new Uint8Array(0)).tag
  floorFrame = gcmSeal(key, okm.subarray(32, 44), okm.subarray(44, 50), record)
}

let ready: Promise<void> | undefined
/** Shared by every scenario; runs once (a second 64 MiB encryption per scenario only adds heap churn). */
function setup(): Promise<void> {
  ready ??= setupOnce()
  return ready
}

async function setupOnce(): Promise<void> {
  floorSetup()
  env = createEnvelope({ provider: await LocalKeyring.inMemory() })
  const out: Uint8Array[] = []
  const src = new ReadableStream<Uint8Array>({
    start(c) {
      for (let o = 0; o < STREAM_BYTES; o += CHUNK) c.enqueue(streamChunk)
      c.close()
    },
  })
  await src
    .pipeThrough(env.encryptStream(context))
    .pipeTo(new WritableStream({ write: (c) => void out.push(c) }))
  // re-chunk the ciphertext like a file read would deliver it
  const total = out.reduce((n, c) => n + c.length, 0)
  const all = new Uint8Array(total)
  let o = 0
  for (const c of out) {
    all.set(c, o)
    o += c.length
  }
  streamCiphertext = []
  for (let i = 0; i < total; i += CHUNK) streamCiphertext.push(all.subarray(i, i + CHUNK))
  const iv = randomBytes(12)
  const c = createCipheriv('aes-256-gcm', rawKey, iv)
  rawStreamCt = []
  for (let i = 0; i < STREAM_BYTES; i += CHUNK) rawStreamCt.push(c.update(streamChunk))
  c.final()
  rawStreamTag = c.getAuthTag()
  rawStreamIv = iv
  recordCiphertext = await env.encrypt(record, context)
  const riv = randomBytes(12)
  const rc = createCipheriv('aes-256-gcm', rawKey, riv)
  const rct = rc.update(record)
  rc.final()
  rawRecord = { iv: riv, ct: rct, tag: rc.getAuthTag() }
  esdkCiphertext = (
    await esdkEncrypt(esdkKeyring, record, { encryptionContext: context, suiteId: esdkSuite })
  ).result
  cachedEnv = createEnvelope({ provider: await LocalKeyring.inMemory(), dataKeyCache: CACHE })
  cachedRecords = []
  esdkCachedRecords = []
  for (let i = 0; i < ROTATION; i++) {
    cachedRecords.push(await cachedEnv.encrypt(record, context))
    esdkCachedRecords.push(
      (await esdkEncrypt(esdkCachingCmm, record, { encryptionContext: context, suiteId: esdkSuite })).result,
    )
  }
}

const cachedEncrypt = () => cachedEnv.encrypt(record, context)
const cachedDecrypt = () => cachedEnv.decrypt(cachedRecords[cachedAt++ % ROTATION] as Uint8Array, context)

// The floor with a cached data key: what each message still needs (no wrap, no unwrap).
function floorCachedEncrypt(): Uint8Array {
  const rnd = take(64) // stands in for the cached data key and this message's id
  const okm = hkdf('sha512', rnd.subarray(0, 32), rnd.subarray(32, 64), infoBytes, 71)
  const key = okm.subarray(0, 32)
  gcmSeal(key, HEADER_IV, headerAad, new Uint8Array(0))
  return gcmSeal(key, okm.subarray(32, 44), okm.subarray(44, 50), record).tag
}
let floorDek: Uint8Array
function floorCachedDecrypt(): Uint8Array {
  const okm = hkdf('sha512', floorDek, infoBytes.subarray(0, 32), infoBytes, 71)
  const key = okm.subarray(0, 32)
  gcmOpen(key, HEADER_IV, headerAad, new Uint8Array(0), floorTag)
  return gcmOpen(key, okm.subarray(32, 44), okm.subarray(44, 50), floorFrame.ct, floorFrame.tag)
}
let rawStreamIv: Uint8Array

function rawStreamDecrypt(): void {
  const d = createDecipheriv('aes-256-gcm', rawKey, rawStreamIv)
  d.setAuthTag(rawStreamTag)
  for (const c of rawStreamCt) d.update(c)
  d.final()
}

// The record anchors: one raw AES-256-GCM call over the same 1 KiB.
const rawRecordEncrypt = {
  name: 'node:crypto createCipheriv (raw GCM)',
  op: (): Uint8Array => {
    const c = createCipheriv('aes-256-gcm', rawKey, randomBytes(12))
    c.update(record)
    c.final()
    return c.getAuthTag()
  },
}
const rawRecordDecrypt = {
  name: 'node:crypto createDecipheriv (raw GCM)',
  op: (): Uint8Array => {
    const d = createDecipheriv('aes-256-gcm', rawKey, rawRecord.iv)
    d.setAuthTag(rawRecord.tag)
    d.update(rawRecord.ct)
    return d.final()
  },
}

const scenarios: Scenario[] = [
  {
    name: 'envelope stream encrypt, 64 MiB',
    unit: 'MB/s',
    bytesPerOp: STREAM_BYTES,
    setup,
    ours: {
      name: 'encryptStream (default 256 KiB frames)',
      op: () => pump(env.encryptStream(context), plainChunks),
    },
    anchor: { name: 'node:crypto AES-256-GCM, one message', op: rawStreamEncrypt },
    target: { ratio: 0.85, text: '≥ 0.85× node:crypto' },
    timeMs: 10_000,
  },
  {
    name: 'envelope stream decrypt, 64 MiB',
    unit: 'MB/s',
    bytesPerOp: STREAM_BYTES,
    setup,
    ours: {
      name: 'decryptStream (default 256 KiB frames)',
      op: () => pump(env.decryptStream(context), () => streamCiphertext[Symbol.iterator]()),
    },
    anchor: { name: 'node:crypto AES-256-GCM, one message', op: rawStreamDecrypt },
    target: { ratio: 0.85, text: '≥ 0.85× node:crypto' },
    timeMs: 10_000,
  },
  {
    name: 'envelope encrypt, 1 KiB record',
    unit: 'ops/s',
    setup,
    ours: { name: 'envelope.encrypt (fresh DEK, wrap, commit)', op: () => env.encrypt(record, context) },
    anchor: rawRecordEncrypt,
    target: { ratio: 0.4, text: '≥ 0.4× raw createCipheriv' },
  },
  {
    name: 'envelope decrypt, 1 KiB record',
    unit: 'ops/s',
    setup,
    ours: { name: 'envelope.decrypt', op: () => env.decrypt(recordCiphertext, context) },
    anchor: rawRecordDecrypt,
    target: { ratio: 0.4, text: '≥ 0.4× raw createDecipheriv' },
  },
  {
    name: 'envelope encrypt, 1 KiB record, vs AWS Encryption SDK',
    unit: 'ops/s',
    setup,
    ours: { name: 'envelope.encrypt', op: () => env.encrypt(record, context) },
    anchor: {
      name: '@aws-crypto/client-node raw AES keyring (committing, unsigned suite)',
      op: () => esdkEncrypt(esdkKeyring, record, { encryptionContext: context, suiteId: esdkSuite }),
    },
    target: { ratio: 3, text: '≥ 3× AWS Encryption SDK' },
  },
  {
    name: 'envelope decrypt, 1 KiB record, vs AWS Encryption SDK',
    unit: 'ops/s',
    setup,
    ours: { name: 'envelope.decrypt', op: () => env.decrypt(recordCiphertext, context) },
    anchor: {
      name: '@aws-crypto/client-node raw AES keyring (committing, unsigned suite)',
      op: () => esdkDecrypt(esdkKeyring, esdkCiphertext),
    },
    target: { ratio: 3, text: '≥ 3× AWS Encryption SDK' },
  },
  {
    name: 'envelope encrypt, 1 KiB record: floor of the v1 primitives',
    unit: 'ops/s',
    setup,
    ours: {
      name: 'bare node:crypto: wrap GCM + HKDF-SHA-512 + header GMAC + frame GCM',
      op: floorEncrypt,
    },
    anchor: rawRecordEncrypt,
    target: { text: 'none: the ceiling of the 0.4× target for format v1' },
  },
  {
    name: 'envelope decrypt, 1 KiB record: floor of the v1 primitives',
    unit: 'ops/s',
    setup,
    ours: {
      name: 'bare node:crypto: unwrap GCM + HKDF-SHA-512 + header GMAC + frame GCM',
      op: floorDecrypt,
    },
    anchor: rawRecordDecrypt,
    target: { text: 'none: the ceiling of the 0.4× target for format v1' },
  },
  {
    name: 'envelope encrypt, 1 KiB record, data-key cache',
    unit: 'ops/s',
    setup,
    ours: { name: 'envelope.encrypt, cached data key (5 min, 2^16 messages)', op: cachedEncrypt },
    anchor: rawRecordEncrypt,
    target: { ratio: 0.4, text: '≥ 0.4× raw createCipheriv' },
  },
  {
    name: 'envelope decrypt, 1 KiB record, data-key cache',
    unit: 'ops/s',
    setup,
    ours: { name: 'envelope.decrypt, cached data key, 256 distinct records', op: cachedDecrypt },
    anchor: rawRecordDecrypt,
    target: { ratio: 0.4, text: '≥ 0.4× raw createDecipheriv' },
  },
  {
    name: 'envelope encrypt, 1 KiB record, data-key cache, vs AWS Encryption SDK caching CMM',
    unit: 'ops/s',
    setup,
    ours: { name: 'envelope.encrypt, cached data key', op: cachedEncrypt },
    anchor: {
      name: '@aws-crypto/client-node NodeCachingMaterialsManager over a raw AES keyring, same limits',
      op: () => esdkEncrypt(esdkCachingCmm, record, { encryptionContext: context, suiteId: esdkSuite }),
    },
    target: { ratio: 3, text: '≥ 3× AWS Encryption SDK' },
  },
  {
    name: 'envelope decrypt, 1 KiB record, data-key cache, vs AWS Encryption SDK caching CMM',
    unit: 'ops/s',
    setup,
    ours: { name: 'envelope.decrypt, cached data key, 256 distinct records', op: cachedDecrypt },
    anchor: {
      name: '@aws-crypto/client-node NodeCachingMaterialsManager, 256 distinct records',
      op: () => esdkDecrypt(esdkCachingCmm, esdkCachedRecords[esdkCachedAt++ % ROTATION] as Uint8Array),
    },
    target: { ratio: 3, text: '≥ 3× AWS Encryption SDK' },
  },
  {
    name: 'envelope encrypt, 1 KiB record: floor of the v1 primitives, cached data key',
    unit: 'ops/s',
    setup,
    ours: { name: 'bare node:crypto: HKDF-SHA-512 + header GMAC + frame GCM', op: floorCachedEncrypt },
    anchor: rawRecordEncrypt,
    target: { text: 'none: the ceiling of the cached 0.4× target for format v1' },
  },
  {
    name: 'envelope decrypt, 1 KiB record: floor of the v1 primitives, cached data key',
    unit: 'ops/s',
    setup,
    ours: { name: 'bare node:crypto: HKDF-SHA-512 + header GMAC + frame GCM', op: floorCachedDecrypt },
    anchor: rawRecordDecrypt,
    target: { text: 'none: the ceiling of the cached 0.4× target for format v1' },
  },
  cliRssScenario,
]
export default scenarios
