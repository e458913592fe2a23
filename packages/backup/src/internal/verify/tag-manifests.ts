/**
 * Tag manifests (RFC 8493 §2.2.1): every tag file they list must match its digest, and, in a
 * signed bag, every file that carries meaning (the declaration, bag-info.txt, fetch.txt and every
 * payload manifest) must be listed, so that the signature over the tag manifests covers it.
 *
 * @module
 */
import { join } from 'node:path'
import { ATTESTATION_FILE } from '../../attestation.js'
import { nfc } from '../paths.js'
import { readWalked } from '../safe-open.js'
import { type Ctx, digestHex, hexEqual, type Run } from './run.js'

/**
 * Checks every tag-manifest line against its tag file (signed bags: in the signature stage;
 * unsigned bags: under integrity).
 */
export async function checkTagFiles(ctx: Ctx, run: Run, maxTag: number): Promise<void> {
  for (const tm of ctx.tagManifests) {
    for (const [key, entry] of tm.entries) {
      const disk = ctx.walkEntries.find((e) => e.kind === 'file' && nfc(e.path) === key)
      if (!disk) {
        run.add(ctx.signed || run.stage === 'signature' ? 'E_TAG_FILE_MISSING' : 'E_MISSING', key)
        continue
      }
      if (disk.size > maxTag) {
        run.add('E_TOO_LARGE', key)
        continue
      }
      let bytes: Uint8Array
      try {
        bytes = await readWalked(join(ctx.root, disk.path), disk)
      } catch {
        run.add('E_UNREADABLE', key)
        continue
      }
      // RFC 8493 §3: a valid bag's tag-manifest checksums all match their files.
      if (!hexEqual(digestHex(tm.algorithm, bytes), entry.digest))
        run.add('E_TAG_FILE_MISMATCH', key, tm.algorithm)
    }
  }
}

/**
 * Signed bags: every manifest, `bagit.txt`, `bag-info.txt` and `fetch.txt` must be covered by
 * every tag manifest (`E_TAG_FILE_UNCOVERED`); other tag files outside them are a warning.
 */
export function checkTagCoverage(ctx: Ctx, run: Run): void {
  // RFC 8493 §2.2.1: a tag manifest SHOULD list the payload manifests and the tag files; here,
  // where it carries the signature's coverage, the meaningful ones MUST be listed.
  const required = ctx.walkEntries
    .filter((e) => e.kind === 'file' && !e.path.includes('/'))
    .map((e) => e.path)
    .filter((p) => p === 'bagit.txt' || p === 'bag-info.txt' || p === 'fetch.txt' || /^manifest-/.test(p))
  for (const tm of ctx.tagManifests)
    for (const p of required) if (!tm.entries.has(p)) run.add('E_TAG_FILE_UNCOVERED', p, tm.algorithm)
  // RFC 8493 §2.2.4: other tag files may exist unlisted; we say so (the signature does not cover them).
  for (const e of ctx.walkEntries) {
    if (e.kind !== 'file' || e.path.startsWith('data/') || e.path === ATTESTATION_FILE) continue
    if (/^tagmanifest-/.test(e.path)) continue
    if (!ctx.tagManifests.some((tm) => tm.entries.has(nfc(e.path)))) run.add('W_TAG_FILE_UNLISTED', e.path)
  }
}
