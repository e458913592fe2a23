/**
 * The resolver-backed checks of one record access: off-hours, restricted patient, no care
 * relationship, self or coworker. Each resolver is asked only when its answer can matter; the
 * answers are then decided together, synchronously when every resolver answered synchronously.
 */
import type { DetectorName } from '../detectors.js'
import type { NormalEvent } from '../normalize.js'
import type { Shift } from '../schedule.js'
import type { Answer, UnknownReason } from './resolve.js'

type Settled<T> = { v: T } | { u: UnknownReason } | undefined

/** What the checks of one access need to know, each possibly still pending. */
export interface AccessQuestions {
  /** Shifts of the user, when the access is at night and off-hours is on. */
  shifts?: Answer<readonly Shift[] | undefined>
  /** Allow list of the patient when restricted (`undefined`: not restricted). */
  allow?: Answer<readonly string[] | undefined>
  /** Care relationship of user and patient. */
  care?: Answer<boolean>
  /** The staff member who is this patient (`undefined`: not staff). */
  staff?: Answer<string | undefined>
}

/** The decided outcome for each detector: fire, stay quiet, or unknown. */
export type Verdicts = Partial<Record<DetectorName, boolean | UnknownReason>>

interface SettledQuestions {
  shifts: Settled<readonly Shift[] | undefined>
  allow: Settled<readonly string[] | undefined>
  care: Settled<boolean>
  staff: Settled<string | undefined>
}

/** Decides from settled answers. `covered` says whether shifts cover the access's local time. */
export function decide(
  ev: NormalEvent,
  who: string,
  q: SettledQuestions,
  covered: (ev: NormalEvent, who: string, shifts: readonly Shift[] | undefined) => boolean,
  hasCare: boolean,
): Verdicts {
  const out: Verdicts = {}
  if (q.shifts !== undefined)
    out['off-hours-access'] = 'u' in q.shifts ? q.shifts.u : !covered(ev, who, q.shifts.v)
  if (q.allow !== undefined) {
    if ('u' in q.allow) out['restricted-patient'] = q.allow.u
    else if (q.allow.v !== undefined) out['restricted-patient'] = !q.allow.v.includes(who)
  }
  if (q.care !== undefined && !ev.btg) out['no-care-relationship'] = 'u' in q.care ? q.care.u : !q.care.v
  if (q.staff !== undefined) {
    if ('u' in q.staff) out['self-or-coworker'] = q.staff.u
    else if (q.staff.v === who) out['self-or-coworker'] = true
    else if (q.staff.v !== undefined) {
      // A coworker's record: explained by a care relationship, when the app can tell.
      if (!hasCare || q.care === undefined) out['self-or-coworker'] = true
      else out['self-or-coworker'] = 'u' in q.care ? q.care.u : !q.care.v
    }
  }
  return out
}

/** Whether any answer is still a promise. */
export function pending(q: AccessQuestions): boolean {
  return (
    q.shifts instanceof Promise ||
    q.allow instanceof Promise ||
    q.care instanceof Promise ||
    q.staff instanceof Promise
  )
}

/** Waits for every answer. */
export async function settle(q: AccessQuestions): Promise<SettledQuestions> {
  const [shifts, allow, care, staff] = await Promise.all([q.shifts, q.allow, q.care, q.staff])
  return { shifts, allow, care, staff }
}

/** The answers as they are (none pending). */
export function settled(q: AccessQuestions): SettledQuestions {
  return q as SettledQuestions
}
