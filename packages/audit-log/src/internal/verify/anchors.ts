/**
 * The verifier's coverage stage: an anchor that holds none of the log's checkpoints (after a grace
 * period for a checkpoint stored but not yet anchored), an empty log, checkpoints larger than the
 * log (truncation), and the records no (anchored) checkpoint covers.
 *
 * @module
 */
import type { AnchorSink } from '../../anchor.js'
import type { AddFinding, Cp } from './checkpoints.js'

const ANCHOR_POLL_MS = 50

/** Lists the anchor until it holds a checkpoint of `stream` or `graceMs` pass; true when it stays empty. */
export async function anchorStaysEmpty(
  anchor: AnchorSink,
  stream: string,
  graceMs: number,
  signal: AbortSignal | undefined,
): Promise<boolean> {
  let empty = (await anchor.list(stream)).length === 0
  for (let waited = 0; empty && waited < graceMs; waited += ANCHOR_POLL_MS) {
    await new Promise((resolve) => setTimeout(resolve, Math.min(ANCHOR_POLL_MS, graceMs - waited)))
    signal?.throwIfAborted()
    empty = (await anchor.list(stream)).length === 0
  }
  return empty
}

/** What the coverage findings are computed from. */
export interface Coverage {
  /** Records read. */
  records: number
  /** Checkpoints that parsed (stored and anchored). */
  valid: readonly Cp[]
  /** Whether an anchor was given, and how many checkpoints it listed. */
  anchored: boolean
  anchoredCount: number
}

function matchedMax(list: readonly Cp[]): number {
  return list.reduce((m, c) => (c.matched === true && c.body.size > m ? c.body.size : m), 0)
}

/**
 * Adds EMPTY_LOG, TRUNCATED and UNANCHORED_TAIL; returns the sizes covered by a matched anchored
 * checkpoint and by any matched checkpoint.
 */
export function coverageFindings(
  c: Coverage,
  add: AddFinding,
): { anchoredSize: number; checkpointedSize: number } {
  const position = c.records
  if (position === 0)
    add({
      seq: 0,
      code: 'EMPTY_LOG',
      severity: 'warning',
      message:
        c.anchoredCount > 0
          ? 'the log is empty'
          : `the log is empty and unanchored: a log whose records and checkpoints were all removed looks the same${c.anchored ? '' : ' (verify against an anchor)'}`,
    })
  for (const cp of c.valid) {
    if (cp.body.size > position)
      add({
        seq: position,
        code: 'TRUNCATED',
        severity: 'error',
        message: `${cp.source} checkpoint ${cp.position} commits to ${cp.body.size} records; the log has ${position}`,
        checkpoint: cp.position,
      })
  }
  const anchoredSize = matchedMax(c.valid.filter((cp) => cp.source === 'anchor'))
  const checkpointedSize = matchedMax(c.valid)
  const coverage = c.anchored ? anchoredSize : checkpointedSize
  if (position > coverage)
    add({
      seq: coverage,
      code: 'UNANCHORED_TAIL',
      severity: 'warning',
      message: `records ${coverage}..${position - 1} are not covered by ${c.anchored ? 'an anchored' : 'any'} checkpoint: truncation or rewriting there would not be detected`,
    })
  return { anchoredSize, checkpointedSize }
}
