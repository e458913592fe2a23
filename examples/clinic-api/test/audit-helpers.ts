/** A clinic whose audit log can be made to fail, and the records its file log holds (embedded mode). */
import { readdirSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import type { AuditEvent } from '@safeguards/audit-log'
import type { ManualClock } from '@safeguards/core'
import { afterAll, beforeAll } from 'vitest'
import { type RunningClinic, startClinic } from '../src/clinic.js'
import { client } from '../src/demo.js'

/** The clinic of a test file, started before its tests and stopped after them. */
export interface FailableClinic {
  clinic: RunningClinic
  call: ReturnType<typeof client>
  /** While true, every audit append rejects (the audit store is down). */
  failing: boolean
  /** Every record of the clinic's file audit log, in order. */
  records(): AuditEvent[]
}

/**
 * Registers `beforeAll`/`afterAll` hooks that start a clinic in demo mode (embedded) whose audit
 * appends reject while `failing` is set, and stop it.
 */
export function failableClinic(clock: ManualClock): FailableClinic {
  const t = { failing: false, records: () => auditRecords(t.clinic) } as FailableClinic
  beforeAll(async () => {
    t.clinic = await startClinic({
      clock,
      demo: { advance: (ms) => clock.advance(ms) },
      wrapAuditLog: (log) => ({
        append: (e) => (t.failing ? Promise.reject(new Error('audit store unavailable')) : log.append(e)),
      }),
    })
    t.call = client(t.clinic.url)
  })
  afterAll(async () => {
    t.failing = false
    await t.clinic?.stop()
  })
  return t
}

/** Every record of the clinic's file audit log, in order. */
export const auditRecords = (clinic: RunningClinic): AuditEvent[] => {
  const dir = join(clinic.paths.audit, 'segments')
  return readdirSync(dir)
    .filter((f) => f.endsWith('.jsonl'))
    .sort()
    .flatMap((f) => readFileSync(join(dir, f), 'utf8').split('\n').filter(Boolean))
    .map((l) => (JSON.parse(l) as { event: AuditEvent }).event)
}
