/**
 * Stage 3, `completeness` (RFC 8493 §3, "complete"): every file a payload manifest lists is
 * present under its exact name and in every payload manifest, no payload file is unlisted, no
 * fetch.txt entry is left unfetched, tag-manifest entries exist (unsigned bags), and
 * `Payload-Oxum` agrees.
 *
 * @module
 */
import { foldKey, isSystemFile, nfc } from '../paths.js'
import { bagInfoValue, parseOxum } from '../tag-files.js'
import type { WalkEntry } from '../walk.js'
import type { Ctx, Run } from './run.js'

/** Runs the `completeness` stage; fills `ctx.matched`. */
export async function completenessStage(ctx: Ctx, run: Run): Promise<'passed'> {
  // RFC 8493 §2.1.2: the payload is every file under data/.
  const disk = new Map<string, WalkEntry>()
  for (const e of ctx.walkEntries)
    if (e.kind === 'file' && e.path.startsWith('data/')) disk.set(nfc(e.path), e)
  const keys = new Set<string>()
  for (const m of ctx.payloadManifests) for (const k of m.entries.keys()) keys.add(k)
  for (const key of keys) matchListed(ctx, run, key, disk)
  // RFC 8493 §3: every payload file is listed in every payload manifest.
  for (const [key] of disk) if (!keys.has(key)) run.add('E_EXTRA', key)
  // Unsigned bags: tag-manifest entries must exist (their digests are checked under integrity).
  if (!ctx.signed)
    for (const tm of ctx.tagManifests)
      for (const key of tm.entries.keys())
        if (!ctx.walkEntries.some((e) => e.kind === 'file' && nfc(e.path) === key)) run.add('E_MISSING', key)
  checkOxum(ctx, run)
  return 'passed'
}

/** One listed payload path: present under its exact name, and in every payload manifest. */
function matchListed(ctx: Ctx, run: Run, key: string, disk: Map<string, WalkEntry>): void {
  for (const m of ctx.payloadManifests)
    if (!m.entries.has(key)) run.add('E_NOT_IN_EVERY_MANIFEST', key, m.algorithm)
  const entry = disk.get(key)
  if (!entry) {
    // RFC 8493 §3: a complete bag has every listed file; §2.2.3: one listed in fetch.txt and
    // absent was not fetched (we never fetch).
    if (ctx.fetchPaths.has(key)) run.add('E_FETCH_UNRESOLVED', key)
    else if (isSystemFile(key) && !ctx.signed) run.add('W_SYSTEM_FILE', key, 'listed but absent')
    else if (caseTwinPresent(ctx, key, disk)) run.add('W_CASE_TWIN', key)
    else run.add('E_MISSING', key)
    return
  }
  const raws = ctx.payloadManifests.flatMap((m) => m.entries.get(key)?.raw ?? [])
  if (!raws.includes(entry.path)) {
    run.add('E_RENAMED_NORMALIZATION', key)
    return
  }
  if (isSystemFile(key)) run.add('W_SYSTEM_FILE', key)
  ctx.matched.push({ key, entry })
}

/** RFC 8493 §2.2.2: `Payload-Oxum` ("octets.count") must match the payload, when present. */
function checkOxum(ctx: Ctx, run: Run): void {
  const oxum = bagInfoValue(ctx.info, 'Payload-Oxum')
  const clean = !run.findings.some((f) => f.stage === 'completeness')
  if (oxum === undefined || !clean) return
  const parsed = parseOxum(oxum)
  const bytes = ctx.matched.reduce((s, m) => s + BigInt(m.entry.size), 0n)
  if (!parsed || parsed.bytes !== bytes || parsed.files !== BigInt(ctx.matched.length))
    run.add('E_OXUM_MISMATCH', 'bag-info.txt')
}

/** A listed name absent on disk whose case-only twin is present with the same digests. */
function caseTwinPresent(ctx: Ctx, key: string, disk: Map<string, WalkEntry>): boolean {
  const fold = foldKey(key)
  for (const m of ctx.payloadManifests) {
    for (const [other, entry] of m.entries) {
      if (other === key || foldKey(other) !== fold || !disk.has(other)) continue
      // Same bytes listed under both names in every manifest: one file on a case-insensitive disk.
      if (ctx.payloadManifests.every((mm) => mm.entries.get(other)?.digest === mm.entries.get(key)?.digest))
        return entry !== undefined
    }
  }
  return false
}
