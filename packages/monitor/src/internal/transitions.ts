/**
 * The transitions of the file finding store, one JSON object per line, and their replay into
 * statuses. A complete line that is not a valid transition is damage (thrown); an incomplete last
 * line (no newline: a crash during the append) is ignored and reported by the caller.
 *
 * @module
 */
import { DETECTOR_NAMES, type DetectorName, SEVERITIES, type Severity } from '../detectors.js'
import { MonitorFindingStoreError } from '../errors.js'
import { DISPOSITIONS, type Disposition, type FindingStatus } from '../lifecycle.js'

/** One line of the store. */
export type Transition =
  | {
      op: 'admit'
      id: string
      detector: DetectorName
      severity: Severity
      who?: string
      at: string
    }
  | { op: 'ack'; id: string; disposition: Disposition; by: string; at: string }
  | { op: 'suppress'; id: string; until: string; by: string; at: string }

const str = (v: unknown): v is string => typeof v === 'string' && v.length > 0 && v.length <= 256
const time = (v: unknown): v is string => str(v) && !Number.isNaN(Date.parse(v))

function valid(t: Record<string, unknown>): boolean {
  if (!str(t.id) || !time(t.at)) return false
  switch (t.op) {
    case 'admit':
      return (
        DETECTOR_NAMES.includes(t.detector as DetectorName) &&
        SEVERITIES.includes(t.severity as Severity) &&
        (t.who === undefined || str(t.who))
      )
    case 'ack':
      return DISPOSITIONS.includes(t.disposition as Disposition) && str(t.by)
    case 'suppress':
      return time(t.until) && str(t.by)
    default:
      return false
  }
}

/** Applies one transition to the state; false when it names an unknown finding. */
export function apply(state: Map<string, FindingStatus>, t: Transition): boolean {
  const prev = state.get(t.id)
  if (t.op === 'admit') {
    const { op: _op, ...rest } = t
    state.set(t.id, { ...rest, state: 'new', firstSeen: prev?.firstSeen ?? t.at })
    return true
  }
  if (prev === undefined) return false
  const { disposition: _d, until: _u, by: _b, ...base } = prev
  state.set(
    t.id,
    t.op === 'ack'
      ? { ...base, state: 'acknowledged', disposition: t.disposition, by: t.by, at: t.at }
      : { ...base, state: 'suppressed', until: t.until, by: t.by, at: t.at },
  )
  return true
}

/** What {@link replay} found. */
export interface Replayed {
  state: Map<string, FindingStatus>
  /** Byte length of the complete lines (where the next append goes). */
  end: number
  /** Bytes of an incomplete last line (ignored), 0 when none. */
  torn: number
}

/**
 * Rebuilds the statuses from the file's bytes.
 *
 * @throws {MonitorFindingStoreError} for a complete line that is not a valid transition.
 */
export function replay(bytes: Uint8Array): Replayed {
  const state = new Map<string, FindingStatus>()
  const end = bytes.lastIndexOf(0x0a) + 1
  const text = new TextDecoder('utf-8', { fatal: false }).decode(bytes.subarray(0, end))
  let line = 0
  for (const raw of text.split('\n')) {
    line++
    if (raw === '') continue
    let t: Record<string, unknown>
    try {
      t = JSON.parse(raw) as Record<string, unknown>
    } catch (e) {
      throw new MonitorFindingStoreError(`findings store line ${line} is not JSON`, { cause: e })
    }
    if (typeof t !== 'object' || t === null || !valid(t) || !apply(state, t as Transition))
      throw new MonitorFindingStoreError(`findings store line ${line} is not a valid transition`)
  }
  return { state, end, torn: bytes.length - end }
}
