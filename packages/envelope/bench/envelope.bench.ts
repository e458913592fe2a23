/**
 * Envelope benchmarks, each side by side with the anchor the issue names:
 * - 64 MiB streaming encrypt/decrypt vs raw node:crypto AES-256-GCM over the same bytes (≥ 0.85×);
 * - 1 KiB records vs a raw createCipheriv/createDecipheriv call (≥ 0.4×) and vs the AWS Encryption
 *   SDK for JavaScript with a raw AES keyring and its committing, unsigned suite (≥ 3×);
 * The CLI 1 GiB peak-RSS scenario is in `cli-rss.ts` (see there why it runs on its own).
 */
import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto'
import {
  AlgorithmSuiteIdentifier,
  buildClient,
  CommitmentPolicy,
  RawAesKeyringNode,
  RawAesWrappingSuiteIdentifier,
} from '@aws-crypto/client-node'
import type { Scenario } from '../../../scripts/bench/types.ts'
import { createEnvelope, type Envelope, LocalKeyring } from '../src/index.js'

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

async function setup(): Promise<void> {
  env = createEnvelope({ provider: await LocalKeyring.inMemory() })
  const out: Uint8Array[] = []
  await plainChunks()
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
}
let rawStreamIv: Uint8Array

function rawStreamDecrypt(): void {
  const d = createDecipheriv('aes-256-gcm', rawKey, rawStreamIv)
  d.setAuthTag(rawStreamTag)
  for (const c of rawStreamCt) d.update(c)
  d.final()
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
    anchor: {
      name: 'node:crypto createCipheriv (raw GCM)',
      op: () => {
        const c = createCipheriv('aes-256-gcm', rawKey, randomBytes(12))
        c.update(record)
        c.final()
        return c.getAuthTag()
      },
    },
    target: { ratio: 0.4, text: '≥ 0.4× raw createCipheriv' },
  },
  {
    name: 'envelope decrypt, 1 KiB record',
    unit: 'ops/s',
    setup,
    ours: { name: 'envelope.decrypt', op: () => env.decrypt(recordCiphertext, context) },
    anchor: {
      name: 'node:crypto createDecipheriv (raw GCM)',
      op: () => {
        const d = createDecipheriv('aes-256-gcm', rawKey, rawRecord.iv)
        d.setAuthTag(rawRecord.tag)
        d.update(rawRecord.ct)
        return d.final()
      },
    },
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
]
export default scenarios
