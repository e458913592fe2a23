import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach } from 'vitest'
import type { AuditEvent } from '../src/index.js'

const dirs: string[] = []

/** A fresh temporary directory, removed after the test. */
export function tempDir(): string {
  const d = mkdtempSync(join(tmpdir(), 'sg-audit-'))
  dirs.push(d)
  return d
}

afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true })
})

/** A valid event; `i` varies the identifiers. */
export function event(i = 0, extra: Partial<AuditEvent> = {}): AuditEvent {
  return {
    type: 'rest',
    subtype: ['read'],
    action: 'R',
    outcome: 0,
    agents: [{ who: `Practitioner/${i % 97}`, requestor: true, type: 'humanuser', role: ['doctor'] }],
    source: { observer: 'ehr-api', site: 'clinic-1' },
    patient: `Patient/${i}`,
    entities: [{ what: `Observation/${i * 7}`, type: '2', role: '4' }],
    requestId: `req-${i}`,
    ...extra,
  }
}
