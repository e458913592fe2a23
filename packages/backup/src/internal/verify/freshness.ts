/**
 * Stage 6, `freshness`: the signed creation time (or, unsigned, bag-info.txt's `Bagging-Date`,
 * RFC 8493 §2.2.2) is younger than the maximum age (the RPO) and not in the future.
 *
 * @module
 */
import type { Clock } from '@safeguards/core'
import type { VerifyOptions } from '../../verify-options.js'
import { bagInfoValue } from '../tag-files.js'
import type { Ctx, Run } from './run.js'

/** Runs the `freshness` stage; fills `ctx.freshness`. */
export async function freshnessStage(
  ctx: Ctx,
  run: Run,
  options: VerifyOptions,
  clock: Clock,
): Promise<'passed' | 'skipped'> {
  const maxAgeMs = options.maxAgeMs ?? null
  let timestamp: number | null = null
  let signed = false
  if (ctx.signed && ctx.attestation) {
    timestamp = Date.parse(ctx.attestation.createdAt)
    signed = true
  } else {
    // RFC 8493 §2.2.2: Bagging-Date is "YYYY-MM-DD" (unsigned: a claim, hence the warning below).
    const date = bagInfoValue(ctx.info, 'Bagging-Date')
    if (date !== undefined && /^\d{4}-\d{2}-\d{2}$/.test(date)) timestamp = Date.parse(`${date}T00:00:00Z`)
  }
  const now = clock.now()
  ctx.freshness = {
    timestamp: timestamp === null || Number.isNaN(timestamp) ? null : new Date(timestamp).toISOString(),
    signed,
    ageMs: timestamp === null || Number.isNaN(timestamp) ? null : now - timestamp,
    maxAgeMs,
  }
  if (maxAgeMs === null) return 'skipped'
  if (!signed) run.add('W_FRESHNESS_UNSIGNED')
  if (timestamp === null || Number.isNaN(timestamp)) {
    run.add('E_STALE', undefined, 'no timestamp')
    return 'passed'
  }
  if (timestamp > now + (options.clockSkewMs ?? 5 * 60_000)) run.add('E_FUTURE_TIMESTAMP')
  else if (now - timestamp > maxAgeMs)
    run.add('E_STALE', undefined, `age ${Math.round((now - timestamp) / 1000)}s`)
  return 'passed'
}
