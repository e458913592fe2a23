/**
 * Walks a directory tree with `lstat` semantics: symlinks are reported, never followed, and
 * nothing outside the root is opened.
 *
 * @module
 */
import { lstat, readdir } from 'node:fs/promises'
import { join } from 'node:path'

/** One entry found on disk, relative to the walk root, `/`-separated, raw (not normalised). */
export interface WalkEntry {
  path: string
  kind: 'file' | 'directory' | 'symlink' | 'other'
  size: number
  ino: number
  dev: number
}

/**
 * Lists every entry below `root` (files, symlinks and special files; directories are descended,
 * not listed, except empty ones are not reported at all). `skipTop` names top-level entries to
 * leave out.
 */
export async function walk(root: string, prefix = ''): Promise<WalkEntry[]> {
  const out: WalkEntry[] = []
  const stack: string[] = [prefix]
  while (stack.length > 0) {
    const rel = stack.pop() as string
    const dirents = await readdir(join(root, rel), { withFileTypes: true })
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
        const st = await lstat(join(root, path))
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
