/**
 * The Vitest config `pnpm mutate <package>` hands to Stryker's Vitest runner: the root config with
 * one project, the package named in `SAFEGUARDS_MUTATE_PROJECT` (the runner has no project option,
 * and running every project for each mutant would be wasted time).
 */
import { defineConfig, type TestProjectInlineConfiguration } from 'vitest/config'
import base from '../vitest.config.ts'

const name = process.env.SAFEGUARDS_MUTATE_PROJECT
const named = (p: unknown): p is TestProjectInlineConfiguration =>
  typeof p === 'object' && p !== null && (p as TestProjectInlineConfiguration).test?.name === name
const projects = (base.test?.projects ?? []).filter(named)
if (projects.length !== 1) throw new Error(`mutate: no Vitest project named ${JSON.stringify(name)}`)

export default defineConfig({
  ...base,
  test: { ...base.test, projects, coverage: { enabled: false } },
})
