/**
 * A schema-specific RFC 8785 writer for records whose event passed `validateEvent`: members in
 * sorted order written directly, strings without escaping (validated strings are printable ASCII
 * without '"' or '\\'), integers with `String`. The output is byte-identical to core's
 * `canonicalize` (a property test checks it) and pure ASCII, at a fraction of the cost.
 */
import type { AuditAgent, AuditEntity, AuditEvent } from '../record.js'

const q = (s: string): string => `"${s}"`
const list = (xs: readonly string[]): string => `[${xs.map(q).join(',')}]`

function agent(a: AuditAgent): string {
  const parts: string[] = []
  if (a.altId !== undefined) parts.push(`"altId":${q(a.altId)}`)
  if (a.network !== undefined) {
    const n = a.network
    parts.push(`"network":{"address":${q(n.address)}${n.type === undefined ? '' : `,"type":${q(n.type)}`}}`)
  }
  if (a.purposeOfUse !== undefined) parts.push(`"purposeOfUse":${list(a.purposeOfUse)}`)
  parts.push(`"requestor":${a.requestor ? 'true' : 'false'}`)
  if (a.role !== undefined) parts.push(`"role":${list(a.role)}`)
  if (a.type !== undefined) parts.push(`"type":${q(a.type)}`)
  parts.push(`"who":${q(a.who)}`)
  return `{${parts.join(',')}}`
}

function entity(e: AuditEntity): string {
  const parts: string[] = []
  if (e.lifecycle !== undefined) parts.push(`"lifecycle":${q(e.lifecycle)}`)
  if (e.role !== undefined) parts.push(`"role":${q(e.role)}`)
  if (e.securityLabel !== undefined) parts.push(`"securityLabel":${list(e.securityLabel)}`)
  if (e.type !== undefined) parts.push(`"type":${q(e.type)}`)
  parts.push(`"what":${q(e.what)}`)
  return `{${parts.join(',')}}`
}

/** Canonical JSON of a validated event. */
export function eventJson(e: AuditEvent): string {
  const parts: string[] = [`"action":${q(e.action)}`, `"agents":[${e.agents.map(agent).join(',')}]`]
  if (e.details !== undefined) {
    const d = e.details
    const keys = Object.keys(d).sort()
    parts.push(
      `"details":{${keys
        .map((k) => {
          const v = d[k]
          return `${q(k)}:${typeof v === 'string' ? q(v) : String(v)}`
        })
        .join(',')}}`,
    )
  }
  if (e.entities !== undefined) parts.push(`"entities":[${e.entities.map(entity).join(',')}]`)
  if (e.occurred !== undefined) parts.push(`"occurred":${q(e.occurred)}`)
  parts.push(`"outcome":${e.outcome}`)
  if (e.outcomeCode !== undefined) parts.push(`"outcomeCode":${q(e.outcomeCode)}`)
  if (e.patient !== undefined) parts.push(`"patient":${q(e.patient)}`)
  if (e.requestId !== undefined) parts.push(`"requestId":${q(e.requestId)}`)
  const s = e.source
  parts.push(
    `"source":{"observer":${q(s.observer)}${s.site === undefined ? '' : `,"site":${q(s.site)}`}${s.type === undefined ? '' : `,"type":${list(s.type)}`}}`,
  )
  if (e.subtype !== undefined) parts.push(`"subtype":${list(e.subtype)}`)
  parts.push(`"type":${q(e.type)}`)
  return `{${parts.join(',')}}`
}

const encoder = new TextEncoder()

/** Canonical bytes of a record envelope around an already-serialised event. */
export function recordBytes(
  eventText: string,
  prevHex: string,
  recorded: string,
  seq: number,
  stream: string,
): Uint8Array {
  return encoder.encode(
    `{"event":${eventText},"prev":"${prevHex}","recorded":"${recorded}","seq":${seq},"stream":"${stream}","v":1}`,
  )
}

const HEX: string[] = Array.from({ length: 256 }, (_, i) => i.toString(16).padStart(2, '0'))

/** Lowercase hex, table-driven (hot path). */
export function hex(bytes: Uint8Array): string {
  let s = ''
  for (let i = 0; i < bytes.length; i++) s += HEX[bytes[i]!]!
  return s
}

const HEXCHARS = [...'0123456789abcdef'].map((c) => c.charCodeAt(0))

/** Writes the lowercase hex of a 32-byte hash as ASCII into `out` (64 bytes). */
export function hexInto(bytes: Uint8Array, out: Uint8Array): void {
  for (let i = 0; i < bytes.length; i++) {
    const v = bytes[i]!
    out[2 * i] = HEXCHARS[v >> 4]!
    out[2 * i + 1] = HEXCHARS[v & 15]!
  }
}
