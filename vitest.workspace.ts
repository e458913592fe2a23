/**
 * The Vitest projects: one per package and per example. Data only: Vitest 4 does not read this
 * file on its own, `vitest.config.ts` imports it into `test.projects`.
 *
 * Inline projects with `extends: true` inherit the root `resolve.conditions`, so workspace imports
 * resolve to `src/` through the `@safeguards/source` export condition and tests run without a build.
 */
import { existsSync, readdirSync } from 'node:fs'
import type { TestProjectConfiguration } from 'vitest/config'

const dirs = (root: string): string[] =>
  existsSync(root)
    ? readdirSync(root, { withFileTypes: true })
        .filter((d) => d.isDirectory() && existsSync(`${root}/${d.name}/package.json`))
        .map((d) => `${root}/${d.name}`)
        .sort()
    : []

export const projects: TestProjectConfiguration[] = [
  ...dirs('packages'),
  ...dirs('examples'),
  ...(existsSync('docs/package.json') ? ['docs'] : []),
].map((dir) => ({
  extends: true,
  test: {
    name: dir === 'docs' ? 'docs-site' : dir.replace(/^(packages|examples)\//, ''),
    root: dir,
    include: ['test/**/*.test.ts'],
    // Type tests (`*.test-d.ts`): the public API's signatures, checked with tsc against the
    // package's test tsconfig, so that a breaking change to an export fails CI.
    typecheck: existsSync(`${dir}/tsconfig.test.json`)
      ? { enabled: true, include: ['test/**/*.test-d.ts'], tsconfig: 'tsconfig.test.json' }
      : undefined,
  },
}))
