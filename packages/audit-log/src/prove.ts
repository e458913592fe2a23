/**
 * Inclusion proof bundles an auditor can check offline: one record's exact bytes, the signed
 * checkpoint it is proved against, and the RFC 6962 audit path. With the log's public key (and
 * nothing else) the auditor recomputes the leaf hash, folds the path to the root, and checks the
 * checkpoint's signature.
 *
 * HIPAA: 164.312(b) audit controls and 164.308(a)(1)(ii)(D) information system activity review (an
 * auditor verifies one disclosure record without receiving the whole log).
 *
 * @module
 */
import { base64ToBytes, bytesToBase64, utf8Decode, utf8Encode } from '@safeguards/core'
import { type Keyring, readCheckpointUnverified } from './checkpoint.js'
import { AuditCorruptionError, CheckpointError } from './errors.js'
import { readRecordHeader } from './internal/record-header.js'
import { leafHashOf } from './internal/sha256.js'
import { MerkleTree, verifyConsistency, verifyInclusion } from './merkle.js'
import type { AuditStore, StoredCheckpoint } from './store.js'

/** An offline-checkable inclusion proof. */
export interface InclusionBundle {
  /** Bundle format. */
  typ: 'safeguards.audit-inclusion-proof'
  /** Version 1. */
  v: 1
  /** The stream id. */
  stream: string
  /** The record's sequence number (its leaf index). */
  seq: number
  /** The record's stored text (canonical JSON). */
  record: string
  /** The signed checkpoint (size > seq) the proof is against. */
  checkpoint: StoredCheckpoint
  /** The audit path, base64 hashes, leaf to root. */
  proof: string[]
}

/** What {@link verifyInclusionBundle} concluded. */
export interface BundleVerdict {
  /** True when the record is in the signed tree. */
  valid: boolean
  /** Why not, when `valid` is false. */
  reason?: string
  /** The key id that signed the checkpoint, when valid. */
  kid?: string
}

/**
 * Builds an inclusion proof for record `seq` against the newest stored checkpoint that covers it
 * (or the one given). Reads the records up to the checkpoint's size once.
 *
 * HIPAA: 164.312(b) audit controls (protection of the trail, SP 800-53 AU-9).
 *
 * @throws {RangeError} when no checkpoint covers `seq`.
 * @throws {AuditCorruptionError} when the records do not match the checkpoint's root.
 * @example
 * ```ts
 * const bundle = await proveInclusion(store, 41)
 * writeFileSync('record-41.proof.json', JSON.stringify(bundle))
 * ```
 */
export async function proveInclusion(
  store: AuditStore,
  seq: number,
  options?: { checkpoint?: StoredCheckpoint },
): Promise<InclusionBundle> {
  if (!Number.isSafeInteger(seq) || seq < 0) throw new RangeError('"seq" expected a non-negative integer')
  const cp = options?.checkpoint ?? (await newestCovering(store, seq))
  return (await proveInclusions(store, [seq], cp))[0]!
}

/** The newest stored checkpoint with `size > seq`. @throws {RangeError} when there is none. */
async function newestCovering(store: AuditStore, seq: number): Promise<StoredCheckpoint> {
  const all = await store.readCheckpoints()
  for (let i = all.length - 1; i >= 0; i--) if (all[i]!.size > seq) return all[i]!
  throw new RangeError('no checkpoint covers "seq"; write a checkpoint first')
}

/**
 * Builds inclusion proofs for many records against one checkpoint, reading the records up to the
 * checkpoint's size once (an access report proves every row this way).
 *
 * HIPAA: 164.312(b) audit controls (protection of the trail, SP 800-53 AU-9),
 * 164.308(a)(1)(ii)(D) information system activity review (reports whose rows carry proof).
 *
 * @param store - the log's store.
 * @param seqs - the records to prove, each below the checkpoint's size (any order; repeats allowed).
 * @param checkpoint - the signed checkpoint to prove against (a stored one).
 * @returns one bundle per entry of `seqs`, in the same order.
 * @throws {RangeError} when a seq is not a non-negative integer below the checkpoint's size.
 * @throws {AuditCorruptionError} when the records do not match the checkpoint's root.
 * @example
 * ```ts
 * const [cp] = (await store.readCheckpoints()).slice(-1)
 * if (cp !== undefined) for (const b of await proveInclusions(store, [3, 41], cp)) console.log(b.seq)
 * ```
 */
export async function proveInclusions(
  store: AuditStore,
  seqs: readonly number[],
  checkpoint: StoredCheckpoint,
): Promise<InclusionBundle[]> {
  const cp = checkpoint
  for (const seq of seqs)
    if (!Number.isSafeInteger(seq) || seq < 0 || seq >= cp.size)
      throw new RangeError('"seqs" expected non-negative integers below the checkpoint size')
  const { root } = readCheckpointUnverified(cp.jws)
  const tree = new MerkleTree()
  const wanted = new Set(seqs)
  const records = new Map<number, Uint8Array>()
  for await (const r of store.read(0, cp.size)) {
    tree.append(leafHashOf(r.bytes))
    if (wanted.has(r.seq)) records.set(r.seq, r.bytes.slice())
  }
  if (tree.size !== cp.size) throw new AuditCorruptionError('log is shorter than the checkpoint', tree.size)
  const got = tree.root(cp.size)
  if (bytesToBase64(got) !== bytesToBase64(root))
    throw new AuditCorruptionError('records do not match the checkpoint root; run verify', cp.size - 1)
  return seqs.map((seq) => ({
    typ: 'safeguards.audit-inclusion-proof',
    v: 1,
    stream: store.stream,
    seq,
    record: utf8Decode(records.get(seq)!),
    checkpoint: { size: cp.size, jws: cp.jws },
    proof: tree.inclusionProof(seq, cp.size).map(bytesToBase64), // RFC 6962 §2.1.1 PATH(seq, D[size])
  }))
}

/**
 * Checks an inclusion bundle offline: signature (with the keyring), stream, the bundle's checkpoint
 * size against the signed one, the record's own seq, and the audit path to the signed root. A wrong bundle is `{ valid: false, reason }`.
 *
 * HIPAA: 164.312(b) audit controls (protection of the trail, SP 800-53 AU-9(3)).
 *
 * @throws {TypeError} when `bundle` is not an object.
 * @example
 * ```ts
 * const verdict = await verifyInclusionBundle(JSON.parse(text), keyring)
 * if (!verdict.valid) console.error(verdict.reason)
 * ```
 */
export async function verifyInclusionBundle(
  bundle: InclusionBundle,
  keyring: Keyring,
): Promise<BundleVerdict> {
  if (typeof bundle !== 'object' || bundle === null) throw new TypeError('"bundle" expected an object')
  if (bundle.typ !== 'safeguards.audit-inclusion-proof' || bundle.v !== 1)
    return { valid: false, reason: 'not an inclusion proof bundle v1' }
  if (
    typeof bundle.record !== 'string' ||
    !Array.isArray(bundle.proof) ||
    typeof bundle.checkpoint?.jws !== 'string'
  )
    return { valid: false, reason: 'bundle is malformed' }
  let cp: Awaited<ReturnType<Keyring['verify']>>
  try {
    cp = await keyring.verify(bundle.checkpoint.jws)
  } catch (e) {
    return { valid: false, reason: e instanceof CheckpointError ? e.message : 'checkpoint does not verify' }
  }
  if (cp.body.origin !== bundle.stream) return { valid: false, reason: 'checkpoint is for another stream' }
  // `checkpoint.size` is outside the signature: it must say what the signed body says.
  if (bundle.checkpoint.size !== cp.body.size)
    return { valid: false, reason: 'checkpoint size differs from the signed size' }
  const bytes = utf8Encode(bundle.record)
  const header = readRecordHeader(bytes)
  if (header === null || header.seq !== bundle.seq || header.stream !== bundle.stream)
    return { valid: false, reason: 'record does not carry the claimed stream and seq' }
  const path = decodePath(bundle.proof)
  if (path === null) return { valid: false, reason: 'proof is not base64' }
  // RFC 9162 §2.1.3.2: the leaf hash (RFC 6962 §2.1, SHA-256(0x00 || record)), folded along the
  // audit path, must give the signed root of the tree of `size` leaves.
  if (!verifyInclusion(leafHashOf(bytes), bundle.seq, cp.body.size, path, cp.root))
    return { valid: false, reason: 'audit path does not lead to the signed root' }
  return { valid: true, kid: cp.kid }
}

/** The proof's hashes, or null when one is not base64. */
function decodePath(proof: readonly string[]): Uint8Array[] | null {
  try {
    return proof.map((p) => base64ToBytes(p))
  } catch {
    return null
  }
}

/** An offline-checkable consistency proof between two signed checkpoints of one log. */
export interface ConsistencyBundle {
  /** Bundle format. */
  typ: 'safeguards.audit-consistency-proof'
  /** Version 1. */
  v: 1
  /** The stream id. */
  stream: string
  /** The earlier checkpoint. */
  from: StoredCheckpoint
  /** The later checkpoint. */
  to: StoredCheckpoint
  /** RFC 6962 consistency proof, base64 hashes. */
  proof: string[]
}

/**
 * Builds a consistency proof that checkpoint `to` extends checkpoint `from` (nothing before
 * `from.size` was rewritten). Reads the records up to `to.size` once.
 *
 * HIPAA: 164.312(b) audit controls (protection of the trail, SP 800-53 AU-9).
 *
 * @throws {RangeError} unless `0 < from.size <= to.size`.
 * @throws {AuditCorruptionError} when the records do not match either checkpoint's root.
 * @example
 * ```ts
 * const [first, , last] = await store.readCheckpoints()
 * const bundle = await proveConsistency(store, first, last)
 * ```
 */
export async function proveConsistency(
  store: AuditStore,
  from: StoredCheckpoint,
  to: StoredCheckpoint,
): Promise<ConsistencyBundle> {
  if (from.size < 1 || from.size > to.size) throw new RangeError('expected 0 < from.size <= to.size')
  const tree = new MerkleTree()
  for await (const r of store.read(0, to.size)) tree.append(leafHashOf(r.bytes))
  if (tree.size !== to.size) throw new AuditCorruptionError('log is shorter than the checkpoint', tree.size)
  for (const cp of [from, to]) {
    if (bytesToBase64(tree.root(cp.size)) !== bytesToBase64(readCheckpointUnverified(cp.jws).root))
      throw new AuditCorruptionError('records do not match the checkpoint root; run verify', cp.size - 1)
  }
  return {
    typ: 'safeguards.audit-consistency-proof',
    v: 1,
    stream: store.stream,
    from: { size: from.size, jws: from.jws },
    to: { size: to.size, jws: to.jws },
    // RFC 6962 §2.1.2 PROOF(from.size, D[to.size]); equal sizes need none (RFC 9162 §2.1.4.2).
    proof: from.size === to.size ? [] : tree.consistencyProof(from.size, to.size).map(bytesToBase64),
  }
}

/**
 * Checks a consistency bundle offline: both signatures (with the keyring), same stream, the
 * bundle's sizes against the signed ones, and the RFC 9162 consistency proof between the two signed
 * roots.
 *
 * HIPAA: 164.312(b) audit controls (protection of the trail, SP 800-53 AU-9(3)).
 *
 * @throws {TypeError} when `bundle` is not an object.
 * @example
 * ```ts
 * const verdict = await verifyConsistencyBundle(bundle, keyring) // { valid: true, kid }
 * ```
 */
export async function verifyConsistencyBundle(
  bundle: ConsistencyBundle,
  keyring: Keyring,
): Promise<BundleVerdict> {
  if (typeof bundle !== 'object' || bundle === null) throw new TypeError('"bundle" expected an object')
  if (bundle.typ !== 'safeguards.audit-consistency-proof' || bundle.v !== 1 || !Array.isArray(bundle.proof))
    return { valid: false, reason: 'not a consistency proof bundle v1' }
  let a: Awaited<ReturnType<Keyring['verify']>>
  let b: Awaited<ReturnType<Keyring['verify']>>
  try {
    a = await keyring.verify(bundle.from?.jws)
    b = await keyring.verify(bundle.to?.jws)
  } catch (e) {
    return { valid: false, reason: e instanceof CheckpointError ? e.message : 'checkpoint does not verify' }
  }
  if (a.body.origin !== bundle.stream || b.body.origin !== bundle.stream)
    return { valid: false, reason: 'checkpoints are for another stream' }
  // `from.size` and `to.size` are outside the signatures: they must say what the signed bodies say.
  if (bundle.from.size !== a.body.size || bundle.to.size !== b.body.size)
    return { valid: false, reason: 'checkpoint sizes differ from the signed sizes' }
  const path = decodePath(bundle.proof)
  if (path === null) return { valid: false, reason: 'proof is not base64' }
  // RFC 9162 §2.1.4.2: the proof must give both signed roots.
  if (!verifyConsistency(a.body.size, b.body.size, a.root, b.root, path))
    return { valid: false, reason: 'the later checkpoint does not extend the earlier one' }
  return { valid: true, kid: b.kid }
}
