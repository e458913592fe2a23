/** What the walkthrough prints of its night (`src/night.ts`), in both modes. */
import { expect } from 'vitest'

/** The monitor's findings, the privacy officer's dispositions and the access report's offline proof check. */
export function expectNightInDemo(out: string): void {
  expect(out).toMatch(/off-hours-access \(low\) u-nurse: 3 record/)
  expect(out.match(/no-care-relationship \(medium\) u-nurse/g)).toHaveLength(3)
  expect(out).toMatch(/password-spray \(high\) 127\.0\.0\.1: 12 record/)
  expect(out).toContain('the nurse tries to clear her own finding: ERR_MONITOR_SELF_REVIEW')
  expect(out).toContain(
    'privacy officer (u-auditor) dispositions 5 new findings as inappropriate; a second review admits 0 new (no second alert)',
  )
  expect(out).toMatch(
    /offline check with the checkpoint public key only: (\d+)\/\1 proofs hold; a row with its outcome rewritten: refused/,
  )
}
