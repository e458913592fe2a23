/**
 * Stage 7, `restore`: the application's restore tests, each with a timeout, run last.
 *
 * @module
 */
import { join } from 'node:path'
import type { Clock } from '@safeguards/core'
import type { VerifyOptions } from '../../verify-options.js'
import type { Ctx, Run } from './run.js'

/** Runs the `restore` stage; fills `ctx.restore`. */
export async function restoreStage(
  ctx: Ctx,
  run: Run,
  options: VerifyOptions,
  clock: Clock,
): Promise<'passed' | 'skipped'> {
  const tests = options.restoreTests ?? []
  if (tests.length === 0) return 'skipped'
  for (const test of tests) {
    const t0 = clock.now()
    const signal = AbortSignal.timeout(test.timeoutMs ?? 10 * 60_000)
    let ok = false
    let detail: string | undefined
    try {
      const r = await test.run({ bagDir: ctx.root, payloadDir: join(ctx.root, 'data'), signal })
      ok = r.ok === true
      detail = r.detail
    } catch {
      ok = false
      detail = 'threw'
    }
    ctx.restore.push({ name: test.name, ok, durationMs: clock.now() - t0 })
    if (!ok)
      run.add(
        'E_RESTORE_TEST_FAILED',
        undefined,
        detail === undefined ? test.name : `${test.name}: ${detail}`,
      )
  }
  return 'passed'
}
