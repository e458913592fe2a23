#!/usr/bin/env node
// Publishing metadata of every published package (packages/*): `npm publish --provenance` needs
// `repository` (type git, the canonical URL, and `directory` naming the package's folder) to match
// the repository the workflow runs in; `homepage` and `bugs` are what npm shows users. Exits 1 and
// names each package and field that is missing or wrong. Part of `pnpm check:packaging`.
import { readdirSync, readFileSync } from 'node:fs'
import { join } from 'node:path'

/** The canonical repository: the one URL every package points at. */
export const REPOSITORY = 'https://github.com/safeguards-sdk/safeguards'

/**
 * The problems of one package.json (empty when it is fine).
 *
 * @param {Record<string, any>} pkg the parsed package.json
 * @param {string} directory its folder relative to the repository root, e.g. `packages/core`
 * @returns {string[]}
 */
export function packageJsonProblems(pkg, directory) {
  if (pkg.private === true) return []
  const problems = []
  const repo = pkg.repository
  if (typeof repo !== 'object' || repo === null) problems.push('"repository" is missing (an object)')
  else {
    if (repo.type !== 'git') problems.push('"repository.type" must be "git"')
    if (repo.url !== `git+${REPOSITORY}.git`)
      problems.push(`"repository.url" must be "git+${REPOSITORY}.git"`)
    if (repo.directory !== directory) problems.push(`"repository.directory" must be "${directory}"`)
  }
  if (pkg.homepage !== `${REPOSITORY}/tree/main/${directory}#readme`)
    problems.push(`"homepage" must be "${REPOSITORY}/tree/main/${directory}#readme"`)
  if (pkg.bugs?.url !== `${REPOSITORY}/issues`) problems.push(`"bugs.url" must be "${REPOSITORY}/issues"`)
  if (pkg.publishConfig?.access !== 'public') problems.push('"publishConfig.access" must be "public"')
  if (typeof pkg.license !== 'string') problems.push('"license" is missing')
  return problems
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const root = join(import.meta.dirname, '..')
  let bad = 0
  let checked = 0
  for (const dir of readdirSync(join(root, 'packages')).sort()) {
    let text
    try {
      text = readFileSync(join(root, 'packages', dir, 'package.json'), 'utf8')
    } catch {
      continue
    }
    checked++
    for (const p of packageJsonProblems(JSON.parse(text), `packages/${dir}`)) {
      console.error(`packages/${dir}/package.json: ${p}`)
      bad++
    }
  }
  console.error(`package.json metadata: ${checked} packages checked, ${bad} problem(s)`)
  if (bad > 0) process.exit(1)
}
