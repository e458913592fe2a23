/**
 * The Markdown code-example check (`scripts/check-examples.ts`, run by `docs:build`): which files
 * it reads, which blocks it extracts, and the opt-out marker that must carry a reason.
 */
import { existsSync, readdirSync } from 'node:fs'
import { relative, resolve } from 'node:path'
import { describe, expect, it } from 'vitest'
import { markdownFiles, tsFences } from '../scripts/check-examples.ts'

const repo = resolve(import.meta.dirname, '../..')

describe('check-examples', () => {
  it('reads every README (root, packages, examples) and every docs page, nothing generated or installed', () => {
    const files = markdownFiles(repo).map((f) => relative(repo, f))
    expect(files).toContain('README.md')
    for (const dir of readdirSync(resolve(repo, 'packages')))
      expect(files).toContain(`packages/${dir}/README.md`)
    for (const dir of readdirSync(resolve(repo, 'examples')))
      if (existsSync(resolve(repo, 'examples', dir, 'README.md')))
        expect(files).toContain(`examples/${dir}/README.md`)
    expect(files).toContain('docs/guide/getting-started.md')
    expect(files).toContain('docs/runbooks/key-rotation.md')
    expect(files.filter((f) => /(^|\/)(node_modules|dist|api|\.vitepress\/cache)\//.test(f))).toEqual([])
  })

  it('extracts ts and typescript blocks with their first code line, and nothing else', () => {
    const text = [
      '# Title', //                    1
      '```ts', //                      2
      'const a: number = 1', //        3
      '```', //                        4
      '```typescript', //              5
      'const b = 2', //                6
      '```', //                        7
      '```tsx', //                     8
      'const c = <div />', //          9
      '```', //                        10
      '```sh', //                      11
      'echo hi', //                    12
      '```', //                        13
      '```ts no-check: a fragment of the class body above', // 14
      'method(): void {}', //          15
      '```', //                        16
      '```ts no-check', //             17
      'x', //                          18
      '```', //                        19
    ].join('\n')
    expect(tsFences(text)).toEqual([
      { line: 3, code: 'const a: number = 1\n' },
      { line: 6, code: 'const b = 2\n' },
      { line: 15, code: 'method(): void {}\n', optOut: 'a fragment of the class body above' },
      { line: 18, code: 'x\n', optOut: '' }, // no reason: the check reports it as an error
    ])
  })
})
