/**
 * Stage 1, `paths`: the bag's structure, read from untrusted files without trusting them.
 *
 * The tree is walked with `lstat` (a symlink or special file anywhere fails the bag; nothing
 * outside the bag is ever opened: only files the walk found inside it are read), then the bag
 * declaration and bag-info.txt (`declaration.ts`), every manifest (`manifests.ts`) and
 * fetch.txt (`fetch.ts`) are parsed, each path checked (no `..`, absolute, `~`, backslash, drive
 * or control characters) and compared after NFC normalisation.
 *
 * @module
 */
import { lstat, realpath } from 'node:fs/promises'
import { nfc } from '../paths.js'
import { walk } from '../walk.js'
import { readBagInfo, readDeclaration } from './declaration.js'
import { readFetch } from './fetch.js'
import { readManifests } from './manifests.js'
import type { Ctx, Run } from './run.js'

/** Runs the `paths` stage on `bagDir`. */
export async function pathsStage(bagDir: string, ctx: Ctx, run: Run, maxTag: number): Promise<'passed'> {
  try {
    ctx.root = await realpath(bagDir)
    if (!(await lstat(ctx.root)).isDirectory()) throw new Error('not a directory')
    ctx.walkEntries = await walk(ctx.root)
  } catch {
    run.add('E_NOT_A_BAG')
    return 'passed'
  }
  // RFC 8493 §5.1: links and special files are never followed (a link could point anywhere).
  for (const e of ctx.walkEntries) if (e.kind !== 'file') run.add('E_UNEXPECTED_TYPE', e.path, e.kind)
  if (!(await readDeclaration(ctx, run))) return 'passed'
  await readBagInfo(ctx, run)
  await readManifests(ctx, run, maxTag)
  await readFetch(ctx, run, maxTag)
  flagNameCollisions(ctx, run)
  return 'passed'
}

/** Two names on disk equal after NFC normalisation are ambiguous: `E_NAME_COLLISION`. */
function flagNameCollisions(ctx: Ctx, run: Run): void {
  const diskKeys = new Map<string, string>()
  for (const e of ctx.walkEntries) {
    const key = nfc(e.path)
    const other = diskKeys.get(key)
    if (other !== undefined && other !== e.path) run.add('E_NAME_COLLISION', key)
    diskKeys.set(key, e.path)
  }
}
