/**
 * Stage 4, `integrity` (RFC 8493 §3, "valid"): every digest of every selected payload file
 * matches, in every payload manifest checked. Files are selected least recently verified first
 * (all of them without a budget) and hashed in parallel, one pass per file for every algorithm.
 *
 * @module
 */
import { join } from 'node:path'
import type { Clock } from '@safeguards/core'
import type { VerifyOptions } from '../../verify-options.js'
import type { VerifyState } from '../../verify-state.js'
import { defaultConcurrency, type HashJob, type HashOutcome, hashFiles } from '../hash-pool.js'
import { bagIdOf, type Ctx, DEFAULT_MAX_TAG_BYTES, hexEqual, type Matched, type Run } from './run.js'
import { checkTagFiles } from './tag-manifests.js'

/** Runs the `integrity` stage; fills `ctx.selected`, `ctx.checked` and the coverage in `state`. */
export async function integrityStage(
  ctx: Ctx,
  run: Run,
  options: VerifyOptions,
  state: VerifyState,
  clock: Clock,
): Promise<'passed'> {
  // RFC 8493 §3: a valid bag's tag-manifest checksums match too (signed bags checked them already).
  if (!ctx.signed) await checkTagFiles(ctx, run, options.maxTagFileBytes ?? DEFAULT_MAX_TAG_BYTES)
  const bagKey = bagIdOf(ctx) ?? `path:${ctx.root}`
  const wanted = options.manifestAlgorithms
  const chosen =
    wanted === undefined
      ? ctx.payloadManifests
      : ctx.payloadManifests.filter((m) => wanted.includes(m.algorithm))
  ctx.checked = chosen.length > 0 ? chosen : ctx.payloadManifests
  const selected = selectFiles(ctx, options, state, bagKey)
  const { jobs, outcomes } = await hashSelected(ctx, selected, options, clock)
  const now = clock.now()
  const files: Record<string, { at: number; ok: boolean }> =
    state.coverage?.bag === bagKey ? state.coverage.files : {}
  ctx.selected = selected.filter((_, i) => outcomes.has(i))
  const jobIndex = new Map(jobs.map((j, i) => [j.path, i]))
  for (const m of ctx.selected) {
    const outcome = outcomes.get(jobIndex.get(join(ctx.root, m.entry.path)) as number)
    if (!outcome) continue
    files[m.key] = { at: now, ok: checkDigests(ctx, run, m, outcome) }
  }
  const live = new Set(ctx.matched.map((m) => m.key))
  for (const k of Object.keys(files)) if (!live.has(k)) delete files[k]
  state.coverage = { bag: bagKey, files }
  ctx.everVerified = Object.keys(files).length
  ctx.oldest =
    ctx.everVerified === ctx.matched.length && ctx.everVerified > 0
      ? Math.min(...Object.values(files).map((f) => f.at))
      : null
  return 'passed'
}

/** Compares one file's digests with every checked manifest; true when all match. */
function checkDigests(ctx: Ctx, run: Run, m: Matched, outcome: HashOutcome): boolean {
  if (!outcome.ok) {
    run.add(outcome.error, m.key, outcome.errno)
    return false
  }
  ctx.filesHashed++
  ctx.bytesHashed += outcome.size
  let ok = true
  for (const manifest of ctx.checked) {
    // RFC 8493 §2.1.3: the file's checksum under the manifest's algorithm, compared in constant time.
    const expected = manifest.entries.get(m.key)?.digest ?? ''
    if (!hexEqual(outcome.digests[manifest.algorithm] ?? '', expected)) {
      run.add('E_DIGEST_MISMATCH', m.key, manifest.algorithm)
      ok = false
    }
  }
  return ok
}

/** Hashes the selected files in parallel under the budget, reporting progress. */
async function hashSelected(
  ctx: Ctx,
  selected: readonly Matched[],
  options: VerifyOptions,
  clock: Clock,
): Promise<{ jobs: HashJob[]; outcomes: Map<number, HashOutcome> }> {
  const algorithms = ctx.checked.map((m) => m.algorithm)
  const jobs: HashJob[] = selected.map((m) => ({
    path: join(ctx.root, m.entry.path),
    algorithms,
    ino: m.entry.ino,
    dev: m.entry.dev,
    size: m.entry.size,
  }))
  const start = clock.now()
  const maxMs = options.budget?.maxMs
  const bytesTotal = selected.reduce((s, m) => s + m.entry.size, 0)
  let bytesDone = 0
  let filesDone = 0
  const report = (): void =>
    options.onProgress?.({ filesDone, filesTotal: selected.length, bytesDone, bytesTotal })
  const outcomes = await hashFiles(jobs, {
    concurrency: options.concurrency ?? defaultConcurrency(),
    onBytes: (n) => {
      bytesDone += n
      report()
    },
    onFiles: (n) => {
      filesDone += n
      report()
    },
    ...(maxMs === undefined ? {} : { shouldContinue: () => clock.now() - start < maxMs }),
  })
  return { jobs, outcomes }
}

/** The files to hash this run: failed first, then never verified, then least recently verified. */
function selectFiles(ctx: Ctx, options: VerifyOptions, state: VerifyState, bagKey: string): Matched[] {
  const coverage = state.coverage?.bag === bagKey ? state.coverage.files : {}
  const budgeted = options.budget?.maxBytes !== undefined
  const ordered = [...ctx.matched].sort((a, b) => {
    const ca = coverage[a.key]
    const cb = coverage[b.key]
    // Failed first, then never verified, then oldest.
    const ra = ca === undefined ? 1 : ca.ok ? 2 : 0
    const rb = cb === undefined ? 1 : cb.ok ? 2 : 0
    if (ra !== rb) return ra - rb
    const ta = ca?.at ?? 0
    const tb = cb?.at ?? 0
    if (ta !== tb) return ta - tb
    // Ties: largest first for a full run (balances the workers), smallest first under a byte
    // budget (covers more files; a never-verified large file still outranks every verified one).
    return budgeted ? a.entry.size - b.entry.size : b.entry.size - a.entry.size
  })
  const maxBytes = options.budget?.maxBytes
  if (maxBytes === undefined) return ordered
  const out: Matched[] = []
  let bytes = 0
  for (const m of ordered) {
    if (out.length > 0 && bytes + m.entry.size > maxBytes) break
    out.push(m)
    bytes += m.entry.size
  }
  return out
}
