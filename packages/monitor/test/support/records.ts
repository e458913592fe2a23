/** Builds audit records (schema v1 shape) as stored bytes, for tests: no hashing, no store. */
const encoder = new TextEncoder()

export const STREAM = 'clinic-test'

/** The parts of an event the generator sets. */
export interface Ev {
  t: number
  who: string
  kind: 'sign-in' | 'access' | 'other'
  outcome?: 0 | 4 | 8 | 12
  patient?: string
  action?: 'C' | 'R' | 'U' | 'D' | 'E'
  address?: string
  roles?: string[]
  btg?: boolean
}

export interface StoredLike {
  seq: number
  bytes: Uint8Array
}

function eventOf(e: Ev): Record<string, unknown> {
  const agent: Record<string, unknown> = { requestor: true, who: e.who }
  if (e.address !== undefined) agent.network = { address: e.address, type: '2' }
  if (e.roles !== undefined) agent.role = e.roles
  if (e.btg === true) agent.purposeOfUse = ['BTG', 'TREAT']
  const base = { agents: [agent], outcome: e.outcome ?? 0, source: { observer: 'ehr-api' } }
  if (e.kind === 'sign-in') return { ...base, action: 'E', subtype: ['110122'], type: '110114' }
  if (e.kind === 'access')
    return { ...base, action: e.action ?? 'R', patient: e.patient, subtype: ['read'], type: 'rest' }
  return { ...base, action: 'E', subtype: ['search'], type: 'rest' }
}

/** One record line for event `e` at `seq`. */
export function recordLine(seq: number, e: Ev, stream = STREAM): string {
  const recorded = new Date(e.t).toISOString()
  return JSON.stringify({
    event: { ...eventOf(e), occurred: recorded },
    prev: '0'.repeat(64),
    recorded,
    seq,
    stream,
    v: 1,
  })
}

/** Stored records for events in order, seqs from `first`. */
export function toRecords(events: readonly Ev[], first = 0): StoredLike[] {
  return events.map((e, i) => ({ seq: first + i, bytes: encoder.encode(recordLine(first + i, e)) }))
}
