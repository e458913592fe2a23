/**
 * Creating a backup set member: a BagIt 1.0 bag (RFC 8493) with SHA-512 and SHA-256 payload and
 * tag manifests, `bag-info.txt` (Bagging-Date, Payload-Oxum, External-Identifier,
 * Bag-Group-Identifier) and, when a signing key is given, the signed `attestation.jws`. The
 * attestation is written last, so its presence marks a complete bag.
 *
 * @module
 */
import { copyFileSync, mkdirSync, renameSync } from 'node:fs'
import { lstat, mkdir, readdir, readFile, writeFile } from 'node:fs/promises'
import { dirname, join, resolve } from 'node:path'
import {
  bytesToHex,
  type Clock,
  createEmitter,
  type EventOptions,
  type RandomSource,
  randomBytes,
  sha256,
  sha512,
  systemClock,
} from '@safeguards/core'
import { errorCode } from '@safeguards/core/node'
import {
  ATTESTATION_FILE,
  type AttestationPayload,
  attestationDigest,
  decodeAttestationUnverified,
  type SigningKey,
  signAttestation,
} from './attestation.js'
import { BackupAttestationError, BackupDestinationError, BackupSourceError } from './errors.js'
import { hashFiles } from './internal/hash-pool.js'
import { formatManifest } from './internal/manifest.js'
import { nfc, pathProblem } from './internal/paths.js'
import { streamThrough } from './internal/stream-file.js'
import { type BagInfoEntry, formatBagInfo } from './internal/tag-files.js'
import { type WalkEntry, walk } from './internal/walk.js'
import { type PayloadCipher, payloadContext } from './payload-cipher.js'
import { BACKUP_VERSION } from './version.js'

/**
 * Options for {@link createBag}. `events` receives a `backup.failed` event when the bag cannot be
 * made (see the README's Events section).
 */
export interface CreateBagOptions extends EventOptions {
  /** Signs the attestation. Without it the bag is a plain (unsigned) BagIt bag. */
  signingKey?: SigningKey
  /** The previous bag's `attestation.jws` text, to chain `seq` and `prev`. */
  previousAttestation?: string
  /** Backup set id (default: the previous attestation's, or `default`). */
  backupSetId?: string
  /** Encrypts every payload file, bound to its bag and path. */
  cipher?: PayloadCipher
  /** Move files from the source instead of copying them (same filesystem; the source is emptied). */
  move?: boolean
  /** Extra bag-info.txt elements. */
  bagInfo?: Record<string, string>
  /** Hashing worker threads (default: available parallelism). */
  concurrency?: number
  /** Largest file the cipher is given in one piece (default 1 GiB). */
  maxEncryptBytes?: number
  /** Clock for Bagging-Date and the attestation time. */
  clock?: Clock
  /** Randomness for the bag id. */
  random?: RandomSource
  /** Progress: bytes hashed since the last call. */
  onBytes?: (bytes: number) => void
}

/** What {@link createBag} made. */
export interface CreateBagResult {
  /** The bag directory (absolute). */
  bagDir: string
  /** The bag id (External-Identifier). */
  bagId: string
  /** The backup set id. */
  backupSetId: string
  /** Payload files. */
  files: number
  /** Payload bytes (as stored: ciphertext when encrypted). */
  bytes: number
  /** Sequence number in the backup set (1 without a previous attestation). */
  seq: number
  /** The attestation JWS, when signed. */
  attestation: string | null
  /** Creation time (ISO 8601). */
  createdAt: string
}

const SET_ID = /^[A-Za-z0-9._:-]{1,128}$/
const LABEL = /^[A-Za-z0-9][A-Za-z0-9-]{0,63}$/

async function prepareDestination(bagDir: string): Promise<void> {
  try {
    const st = await lstat(bagDir)
    if (!st.isDirectory()) throw new BackupDestinationError('destination exists and is not a directory')
    if ((await readdir(bagDir)).length > 0) throw new BackupDestinationError('destination is not empty')
  } catch (error) {
    if (errorCode(error) !== 'ENOENT') throw error
  }
  await mkdir(join(bagDir, 'data'), { recursive: true })
}

/**
 * Bags `sourceDir` into a new bag at `bagDir` (which must not exist or be empty): copies (or
 * moves, or encrypts) every file into `data/`, hashes them in parallel with SHA-512 and SHA-256
 * in one pass, writes the manifests, bag-info.txt and tag manifests, and signs the attestation.
 *
 * HIPAA: supports 164.308(a)(7)(ii)(A) data backup plan, 164.310(d)(2)(iv) data backup and
 * storage, and 164.312(c)(2) (it records the digests and signature that {@link verifyBag} checks).
 *
 * @hipaa 164.308(a)(7)(ii)(A) supports
 * @hipaa 164.310(d)(2)(iv) supports
 * @hipaa 164.312(c)(2) supports
 * @nist CP-9 164.308(a)(7)(ii)(A)
 * @nist CP-9 164.310(d)(2)(iv)
 * @nist CP-9(8) 164.308(a)(7)(ii)(A): with a payload cipher, backup files are encrypted under the envelope keyring
 * @nist SI-7 164.312(c)(2)
 * @evidence a BagIt 1.0 bag with SHA-512 and SHA-256 manifests and a signed attestation chained to the previous backup
 * @appResponsibility Decide what is backed up and how often (RPO); keep off-site copies; keep signing keys separate from the backup storage.
 * @config signing key and kid, previous attestation, payload cipher (envelope keyring)
 * @verifiedBy packages/backup/test/attestation.test.ts
 * @verifiedBy packages/backup/test/conformance.test.ts
 * @throws {BackupSourceError} (`ERR_BACKUP_SOURCE`) when the source has symlinks, special files,
 *   unsafe or colliding names, or a file too large for the cipher.
 * @throws {BackupDestinationError} (`ERR_BACKUP_DESTINATION`) when `bagDir` is not empty.
 * @throws {BackupAttestationError} (`ERR_BACKUP_ATTESTATION`) for a malformed previous attestation.
 * @throws {EventSinkError} (`ERR_EVENT_SINK`) when a critical event sink fails on the
 *   `backup.failed` event of a failed creation.
 * @example
 * ```ts
 * const result = await createBag('/srv/dump', '/backups/2026-11-22', { signingKey, previousAttestation })
 * console.log(result.seq, result.files)
 * ```
 */
export async function createBag(
  sourceDir: string,
  bagDir: string,
  options: CreateBagOptions = {},
): Promise<CreateBagResult> {
  const emitter = createEmitter(options)
  try {
    return await makeBag(sourceDir, bagDir, options)
  } catch (error) {
    // One event per failed creation: the error's code (codes and counts only, never names).
    const code = errorCode(error)
    if (emitter.active)
      await emitter.emit({
        type: 'backup.failed',
        at: (options.clock ?? systemClock).now(),
        source: '@safeguards/backup',
        outcome: 'failure',
        ...(code === undefined ? {} : { code }),
      })
    throw error
  }
}

async function makeBag(
  sourceDir: string,
  bagDir: string,
  options: CreateBagOptions,
): Promise<CreateBagResult> {
  const clock = options.clock ?? systemClock
  const random = options.random ?? randomBytes
  const src = resolve(sourceDir)
  const dest = resolve(bagDir)
  if (dest === src || dest.startsWith(`${src}/`))
    throw new BackupDestinationError('destination must not be inside the source')
  const chain = chainPosition(options)
  const entries = await scanSource(src)
  await prepareDestination(dest)
  const bagId = bytesToHex(random(16))
  await fillPayload(src, dest, entries, bagId, options)
  const { files, bytes, lines } = await hashPayload(dest, options)
  const createdAt = new Date(clock.now()).toISOString()
  const payloadOxum = `${bytes}.${files}`
  const info = bagInfo(createdAt, payloadOxum, bagId, chain.backupSetId, options)
  const tagManifests = await writeTagFiles(dest, info, lines)
  let attestation: string | null = null
  if (options.signingKey) {
    const statement: AttestationPayload = {
      typ: 'safeguards.backup.attestation',
      v: 1,
      bagId,
      backupSetId: chain.backupSetId,
      seq: chain.seq,
      prev: chain.prev,
      createdAt,
      tagManifests,
      payloadOxum,
      encrypted: options.cipher !== undefined,
    }
    attestation = await signAttestation(statement, options.signingKey)
    // Written last: its presence marks a complete bag (and, RFC 8493 §2.2.4, it is a tag file no
    // tag manifest lists, since the tag manifests' digests are inside it).
    await writeFile(join(dest, ATTESTATION_FILE), `${attestation}\n`, { flag: 'wx' })
  }
  const { backupSetId, seq } = chain
  return { bagDir: dest, bagId, backupSetId, files, bytes, seq, attestation, createdAt }
}

/** The backup set, `seq` and `prev` of the new bag, from the options and the previous attestation. */
function chainPosition(options: CreateBagOptions): { backupSetId: string; seq: number; prev: string | null } {
  let seq = 1
  let prev: string | null = null
  let backupSetId = options.backupSetId
  if (options.previousAttestation !== undefined) {
    const previous = decodeAttestationUnverified(options.previousAttestation)
    if (backupSetId !== undefined && backupSetId !== previous.backupSetId)
      throw new BackupAttestationError('previous attestation belongs to another backup set')
    backupSetId = previous.backupSetId
    seq = previous.seq + 1
    prev = attestationDigest(options.previousAttestation.trim())
  }
  backupSetId ??= 'default'
  if (!SET_ID.test(backupSetId))
    throw new BackupSourceError('backup set id must match [A-Za-z0-9._:-]{1,128}')
  for (const label of Object.keys(options.bagInfo ?? {}))
    if (!LABEL.test(label)) throw new BackupSourceError('bag-info label must match [A-Za-z0-9-]')
  return { backupSetId, seq, prev }
}

/** Walks the source: regular files only, at names that bag safely and do not collide after NFC. */
async function scanSource(src: string): Promise<WalkEntry[]> {
  let st: Awaited<ReturnType<typeof lstat>>
  try {
    st = await lstat(src)
  } catch (error) {
    throw new BackupSourceError('source directory cannot be read', { cause: error })
  }
  if (!st.isDirectory()) throw new BackupSourceError('source is not a directory')
  const entries = await walk(src)
  const bad = entries.filter((e) => e.kind !== 'file').length
  if (bad > 0) throw new BackupSourceError(`source has ${bad} symlink(s) or special file(s)`)
  // RFC 8493 §5.1: no name a verifier would refuse (absolute, "..", "~", control characters…).
  const unsafe = entries.filter((e) => pathProblem(e.path) !== null).length
  if (unsafe > 0) throw new BackupSourceError(`source has ${unsafe} name(s) that cannot be bagged safely`)
  const seen = new Set<string>()
  for (const e of entries) {
    const key = nfc(e.path)
    if (seen.has(key)) throw new BackupSourceError('source has names that collide after NFC normalisation')
    seen.add(key)
  }
  return entries.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0))
}

/** Copies (or moves, or encrypts) every source file into `data/` (RFC 8493 §2.1.2). */
async function fillPayload(
  src: string,
  dest: string,
  entries: readonly WalkEntry[],
  bagId: string,
  options: CreateBagOptions,
): Promise<void> {
  const maxEncrypt = options.maxEncryptBytes ?? 1024 * 1024 * 1024
  const made = new Set<string>()
  for (const e of entries) {
    const from = join(src, e.path)
    const to = join(dest, 'data', e.path)
    const dir = dirname(to)
    if (!made.has(dir)) {
      mkdirSync(dir, { recursive: true })
      made.add(dir)
    }
    if (options.cipher) {
      const context = payloadContext(bagId, `data/${e.path}`)
      if (options.cipher.encryptStream) {
        await streamThrough(from, to, options.cipher.encryptStream(context))
      } else {
        if (e.size > maxEncrypt) throw new BackupSourceError('a file is larger than maxEncryptBytes')
        const plaintext: Uint8Array = await readFile(from)
        await writeFile(to, await options.cipher.encrypt(plaintext, context), { flag: 'wx' })
      }
    } else if (options.move) {
      renameSync(from, to)
    } else {
      copyFileSync(from, to)
    }
  }
}

type ManifestLines = Record<'sha512' | 'sha256', { path: string; digest: string }[]>

/** Hashes the payload as stored, SHA-512 and SHA-256 in one pass per file, in parallel. */
async function hashPayload(
  dest: string,
  options: CreateBagOptions,
): Promise<{ files: number; bytes: number; lines: ManifestLines }> {
  const payload = (await walk(join(dest, 'data'))).filter((e) => e.kind === 'file')
  const algorithms = ['sha512', 'sha256'] as const
  const outcomes = await hashFiles(
    payload.map((e) => ({
      path: join(dest, 'data', e.path),
      algorithms,
      ino: e.ino,
      dev: e.dev,
      size: e.size,
    })),
    {
      ...(options.concurrency === undefined ? {} : { concurrency: options.concurrency }),
      ...(options.onBytes === undefined ? {} : { onBytes: options.onBytes }),
    },
  )
  let bytes = 0
  const lines: ManifestLines = { sha512: [], sha256: [] }
  payload.forEach((e, i) => {
    const outcome = outcomes.get(i)
    if (!outcome?.ok) throw new BackupSourceError('a payload file could not be read while bagging')
    bytes += outcome.size
    // RFC 8493 §2.1.3: one "<checksum> data/<path>" line per payload file in each manifest.
    for (const a of algorithms)
      lines[a].push({ path: `data/${e.path}`, digest: outcome.digests[a] as string })
  })
  return { files: payload.length, bytes, lines }
}

/** The bag-info.txt elements we write (RFC 8493 §2.2.2), then the caller's. */
function bagInfo(
  createdAt: string,
  payloadOxum: string,
  bagId: string,
  backupSetId: string,
  options: CreateBagOptions,
): BagInfoEntry[] {
  const info: BagInfoEntry[] = [
    { label: 'Bag-Software-Agent', value: `@safeguards/backup ${BACKUP_VERSION}` },
    { label: 'Bagging-Date', value: createdAt.slice(0, 10) },
    { label: 'Payload-Oxum', value: payloadOxum },
    { label: 'External-Identifier', value: bagId },
    { label: 'Bag-Group-Identifier', value: backupSetId },
  ]
  if (options.cipher) info.push({ label: 'Safeguards-Payload-Encryption', value: 'envelope' })
  for (const [label, value] of Object.entries(options.bagInfo ?? {})) info.push({ label, value })
  return info
}

/**
 * Writes bagit.txt, bag-info.txt, the payload manifests and the two tag manifests; returns the
 * tag manifests' digests (what the attestation signs).
 */
async function writeTagFiles(
  dest: string,
  info: readonly BagInfoEntry[],
  lines: ManifestLines,
): Promise<AttestationPayload['tagManifests']> {
  const encode = (text: string): Uint8Array => new TextEncoder().encode(text)
  const tagFiles: Record<string, Uint8Array> = {
    // RFC 8493 §2.1.1: the bag declaration, exactly these two lines.
    'bagit.txt': encode('BagIt-Version: 1.0\nTag-File-Character-Encoding: UTF-8\n'),
    'bag-info.txt': encode(formatBagInfo(info)),
    'manifest-sha512.txt': encode(formatManifest(lines.sha512)),
    'manifest-sha256.txt': encode(formatManifest(lines.sha256)),
  }
  for (const [name, data] of Object.entries(tagFiles)) await writeFile(join(dest, name), data, { flag: 'wx' })
  // RFC 8493 §2.2.1: each tag manifest lists every tag file above, never the payload.
  const tagManifest = (digest: (d: Uint8Array) => Uint8Array): Uint8Array =>
    encode(
      formatManifest(Object.entries(tagFiles).map(([path, d]) => ({ path, digest: bytesToHex(digest(d)) }))),
    )
  const tag512 = tagManifest(sha512)
  const tag256 = tagManifest(sha256)
  await writeFile(join(dest, 'tagmanifest-sha512.txt'), tag512, { flag: 'wx' })
  await writeFile(join(dest, 'tagmanifest-sha256.txt'), tag256, { flag: 'wx' })
  return { sha512: bytesToHex(sha512(tag512)), sha256: bytesToHex(sha256(tag256)) }
}
