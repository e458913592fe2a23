import { readFileSync } from 'node:fs'
import { dirname, join, resolve } from 'node:path'
import { describe, expect, it } from 'vitest'

const SRC = resolve(import.meta.dirname, '../src')

/** Every source file the entry reaches through relative imports, with the bare specifiers it imports. */
function graph(entry: string): Map<string, string[]> {
  const seen = new Map<string, string[]>()
  const visit = (file: string): void => {
    if (seen.has(file)) return
    const text = readFileSync(file, 'utf8')
    const specs = [
      ...text.matchAll(/(?:^|\n)\s*(?:import|export)[^'"]*?from\s+'([^']+)'|import\('([^']+)'\)/g),
    ].map((m) => (m[1] ?? m[2]) as string)
    seen.set(file, specs)
    for (const s of specs) if (s.startsWith('.')) visit(join(dirname(file), s.replace(/\.js$/, '.ts')))
  }
  visit(entry)
  return seen
}

describe('entry points', () => {
  it('the root entry imports nothing from node: (it runs in browsers and edge runtimes)', () => {
    const files = graph(join(SRC, 'index.ts'))
    expect(files.size).toBeGreaterThan(5)
    for (const [file, specs] of files) {
      expect(file.includes('/node/'), file).toBe(false)
      for (const s of specs) expect(s.startsWith('node:'), `${file} imports ${s}`).toBe(false)
    }
  })
  it('the ./node entry shares the root entry’s modules (one error class each), never a copy', () => {
    const files = graph(join(SRC, 'node/index.ts'))
    for (const [, specs] of files) expect(specs).not.toContain('@safeguards/core')
    expect([...files.keys()]).toContain(join(SRC, 'errors.ts'))
  })
})
