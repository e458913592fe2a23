/**
 * The verifier's checkpoint stage: each stored and anchored checkpoint parsed (and its signature
 * checked with a keyring), the stored chain (index, `prev` link, no rollback, no replay), the
 * anchored ones against the stored ones, and equivocation (two roots for one size).
 *
 * @module
 */
import { bytesToHex, isSafeguardsError } from '@safeguards/core'
import type { AnchoredCheckpoint } from '../../anchor.js'
import {
  type CheckpointBody,
  checkpointHash,
  type Keyring,
  readCheckpointUnverified,
} from '../../checkpoint.js'
import type { StoredCheckpoint } from '../../store.js'
import type { Finding, FindingCode } from '../../verify.js'

/** Records a finding (the report keeps at most `maxFindings`). */
export type AddFinding = (f: Finding) => void

/** A checkpoint that parsed, with what the records later say of its root. */
export interface Cp {
  source: 'store' | 'anchor'
  position: number
  stored: StoredCheckpoint
  body: CheckpointBody
  root: Uint8Array
  trusted: boolean
  /** Whether its root matched the records at its size (null: not reached yet). */
  matched: boolean | null
}

/** The all-zero `prev` of checkpoint 0. */
export const ZERO_HEX: string = '0'.repeat(64)

/** Root equality (public values: no constant time needed). */
export function rootsEqual(a: Uint8Array, b: Uint8Array): boolean {
  return bytesToHex(a) === bytesToHex(b)
}

/** The seq a finding about a checkpoint of `size` records names: its last record. */
function lastOf(size: number): number {
  return Math.max(0, size - 1)
}

function cpFinding(size: number, code: FindingCode, message: string, checkpoint: number): Finding {
  return { seq: lastOf(size), code, severity: 'error', message, checkpoint }
}

/** What a checkpoint is checked against. */
export interface CheckpointContext {
  stream: string
  keyring: Keyring | undefined
  add: AddFinding
}

async function load(
  stored: StoredCheckpoint,
  source: Cp['source'],
  position: number,
  ctx: CheckpointContext,
): Promise<Cp | null> {
  try {
    const { body, root } =
      ctx.keyring !== undefined ? await ctx.keyring.verify(stored.jws) : readCheckpointUnverified(stored.jws)
    if (body.origin !== ctx.stream) {
      const msg = `${source} checkpoint ${position} is for another stream`
      ctx.add(cpFinding(stored.size, 'CHECKPOINT_MALFORMED', msg, position))
      return null
    }
    if (body.size !== stored.size) {
      const msg = `${source} checkpoint ${position} size does not match its signed size`
      ctx.add(cpFinding(stored.size, 'CHECKPOINT_MALFORMED', msg, position))
      return null
    }
    return { source, position, stored, body, root, trusted: ctx.keyring !== undefined, matched: null }
  } catch (e) {
    // The error code says what failed (never the message: custom keyrings word it their own way).
    const code: FindingCode = isSafeguardsError(e, 'ERR_AUDIT_UNKNOWN_KEY')
      ? 'UNKNOWN_KEY'
      : isSafeguardsError(e, 'ERR_AUDIT_CHECKPOINT_SIGNATURE')
        ? 'CHECKPOINT_SIG_INVALID'
        : 'CHECKPOINT_MALFORMED'
    const msg = e instanceof Error ? e.message : 'not readable'
    ctx.add(cpFinding(stored.size, code, `${source} checkpoint ${position}: ${msg}`, position))
    return null
  }
}

/** Parses every stored and anchored checkpoint (null where one is unreadable or untrusted). */
export async function loadCheckpoints(
  rawStored: readonly StoredCheckpoint[],
  rawAnchored: readonly AnchoredCheckpoint[],
  ctx: CheckpointContext,
): Promise<{ storeCps: (Cp | null)[]; anchorCps: (Cp | null)[] }> {
  const storeCps: (Cp | null)[] = []
  for (let i = 0; i < rawStored.length; i++) storeCps.push(await load(rawStored[i]!, 'store', i, ctx))
  const anchorCps: (Cp | null)[] = []
  for (const a of rawAnchored) anchorCps.push(await load(a, 'anchor', a.index, ctx))
  return { storeCps, anchorCps }
}

/** The chain of stored checkpoints: index, prev link, no rollback, no replay. */
export function checkStoredChain(
  storeCps: readonly (Cp | null)[],
  rawStored: readonly StoredCheckpoint[],
  add: AddFinding,
): void {
  const seenJws = new Set<string>()
  let prevCp: Cp | null = null
  for (let i = 0; i < storeCps.length; i++) {
    const cp = storeCps[i]
    const raw = rawStored[i]!
    if (seenJws.has(raw.jws)) {
      add(cpFinding(raw.size, 'CHECKPOINT_REPLAY', `stored checkpoint ${i} repeats an earlier checkpoint`, i))
      prevCp = null
      continue
    }
    seenJws.add(raw.jws)
    if (cp === null || cp === undefined) {
      prevCp = null
      continue
    }
    // Append-only discipline of the chain: each checkpoint names the hash of the one before it,
    // sizes never decrease, and dates never go back.
    const expectPrev = i === 0 ? ZERO_HEX : checkpointHash(rawStored[i - 1]!.jws)
    const size = cp.body.size
    if (cp.body.index !== i || cp.body.prev !== expectPrev) {
      add(
        cpFinding(
          size,
          'CHECKPOINT_REPLAY',
          `stored checkpoint ${i} is out of its chain (index ${cp.body.index})`,
          i,
        ),
      )
    } else if (prevCp !== null && size < prevCp.body.size) {
      const msg = `stored checkpoint ${i} has size ${size}, below the previous ${prevCp.body.size}`
      add(cpFinding(size, 'ROLLBACK', msg, i))
    } else if (prevCp !== null && cp.body.timestamp < prevCp.body.timestamp) {
      add(cpFinding(size, 'ROLLBACK', `stored checkpoint ${i} is dated before the previous one`, i))
    }
    prevCp = cp
  }
}

/** Anchored checkpoints against the stored ones: same index, present, same bytes. */
export function checkAnchored(
  anchorCps: readonly (Cp | null)[],
  rawStored: readonly StoredCheckpoint[],
  add: AddFinding,
): void {
  for (const a of anchorCps) {
    if (a === null) continue
    const size = a.body.size
    if (a.body.index !== a.position) {
      const msg = `anchored checkpoint ${a.position} carries index ${a.body.index}`
      add(cpFinding(size, 'CHECKPOINT_REPLAY', msg, a.position))
      continue
    }
    const s = rawStored[a.position]
    if (s === undefined) {
      const msg = `anchored checkpoint ${a.position} is missing from the log's checkpoints`
      add(cpFinding(size, 'ROLLBACK', msg, a.position))
    } else if (s.jws !== a.stored.jws) {
      const msg = `stored checkpoint ${a.position} differs from the anchored one`
      add(cpFinding(size, 'ANCHOR_MISMATCH', msg, a.position))
    }
  }
}

/** The checkpoints grouped by size; two roots for one size is equivocation. */
export function rootsBySize(valid: readonly Cp[], add: AddFinding): Map<number, Cp[]> {
  const bySize = new Map<number, Cp[]>()
  for (const c of valid) {
    const list = bySize.get(c.body.size) ?? []
    list.push(c)
    bySize.set(c.body.size, list)
  }
  for (const [size, list] of bySize) {
    const first = list[0]!
    const other = list.find((c) => !rootsEqual(c.root, first.root))
    if (other !== undefined)
      add({
        seq: lastOf(size),
        code: 'EQUIVOCATION',
        severity: 'error',
        message: `two checkpoints of size ${size} have different roots (${first.source} ${first.position}, ${other.source} ${other.position})`,
        checkpoint: other.position,
      })
  }
  return bySize
}
