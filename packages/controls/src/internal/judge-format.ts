/** Helpers shared by the evidence judges. */
import type { ThresholdId } from '../baseline.js'
import type { Verdict } from '../evidence-judge.js'
import { human } from './human.js'

/** Reads a threshold in force: its value and its source. */
export type T = (id: ThresholdId) => { value: number | boolean | string; source: string }

/** `met`, or `partly met` when the value was only declared. */
export const pass = (declared: boolean): Verdict['status'] => (declared ? 'partly met' : 'met')

export const dur = (ms: number): string => `${human(ms)} (${ms} ms)`
