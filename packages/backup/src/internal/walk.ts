/**
 * Walks a directory tree with `lstat` semantics: symlinks are reported, never followed, and
 * nothing outside the root is opened.
 *
 * The walk uses synchronous `readdir`/`lstat` calls: for trees of 100,000 small files they are
 * several times faster than the promise API (no thread-pool round trip per file). They block the
 * event loop for the duration of the walk, which a batch backup job can afford.
 *
 * @module
 */
import { lstatSync, readdirSync } from 'node:fs'
import { join } from 'node:path'

/** One entry found on disk, relative to the walk root, `/`-separated, raw (not normalised). */
export interface WalkEntry {
  path: string
  kind: 'file' | 'symlink' | 'other'
  size: number
  ino: number
  dev: number
}

/**
 * Lists every non-directory entry below `root` (files, symlinks and special files); directories
 * are descended, never listed. Throws when `root` cannot be read.
 */
export async function walk(root: string): Promise<WalkEntry[]> {
  const out: WalkEntry[] = []
  const stack: string[] = ['']
  while (stack.length > 0) {
    const rel = stack.pop() as string
    const dirents = readdirSync(join(root, rel), { withFileTypes: true })
    for (const d of dirents) {
      const path = rel === '' ? d.name : `${rel}/${d.name}`
      if (d.isDirectory()) {
        stack.push(path)
        continue
      }
      if (d.isSymbolicLink()) {
        out.push({ path, kind: 'symlink', size: 0, ino: 0, dev: 0 })
        continue
      }
      if (d.isFile()) {
        const st = lstatSync(join(root, path))
        if (st.isFile()) {
          out.push({ path, kind: 'file', size: st.size, ino: st.ino, dev: st.dev })
          continue
        }
      }
      out.push({ path, kind: 'other', size: 0, ino: 0, dev: 0 })
    }
  }
  return out
}
