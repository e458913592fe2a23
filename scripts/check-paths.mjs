#!/usr/bin/env node
// Fails when code in the repository points outside it: tests must run from a fresh clone with
// nothing beside it, so third-party data lives in `packages/*/test/vectors/` with its provenance.
// Run by `pnpm lint`. It reports, in every source file (tests, benches, examples, docs, scripts,
// src; not Markdown, not the vector sets themselves):
//   1. any mention of the sibling folder the vectors used to be read from (`..` + `/shared`, or
//      `shared` + `/vectors`), comments included;
//   2. a string literal starting with `./` or `../` that, taken from the file's own folder,
//      already leads out of the repository;
//   3. an absolute path literal under a user's or a machine's own folders (/work, /home, /root,
//      /Users, /tmp): use `import.meta.dirname` or `os.tmpdir()` instead.
// Paths of installed system tools (/usr, /etc, /dev, /proc) are dependencies, not checked here.
//
//   node scripts/check-paths.mjs [ROOT]    exit 0 clean, 1 with a list of offending lines
import { readdirSync, readFileSync } from 'node:fs'
import { dirname, join, relative, resolve, sep } from 'node:path'
import { fileURLToPath } from 'node:url'

const root = resolve(process.argv[2] ?? join(dirname(fileURLToPath(import.meta.url)), '..'))
const SKIP_DIRS = new Set(['node_modules', 'dist', '.git', '.reports', 'coverage'])
const SKIP_PATHS = new Set(['docs/api', 'docs/.vitepress/cache', 'docs/.vitepress/dist'])
const CODE = /\.(?:[cm]?[jt]s|tsx|vue|sh)$/
const SIBLING = new RegExp(['\\.\\./sh' + 'ared\\b', '\\bsh' + 'ared/vectors\\b'].join('|'))
const LITERAL = /(['"`])((?:\\.|(?!\1)[^\\\n])*)\1/g
const MACHINE_ROOT = /^\/(?:work|home|root|Users|tmp)(?:\/|$)/

function* files(dir) {
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name)
    if (entry.isDirectory()) {
      const rel = relative(root, path).split(sep).join('/')
      if (SKIP_DIRS.has(entry.name) || SKIP_PATHS.has(rel)) continue
      // Third-party vector sets are data, copied unchanged: not ours to scan.
      if (/(?:^|\/)test\/vectors\/[^/]+$/.test(rel)) continue
      yield* files(path)
    } else if (entry.isFile() && CODE.test(entry.name)) yield path
  }
}

const problems = []
for (const file of files(root)) {
  const dir = dirname(file)
  readFileSync(file, 'utf8')
    .split('\n')
    .forEach((line, i) => {
      const where = `${relative(root, file)}:${i + 1}`
      if (SIBLING.test(line)) problems.push(`${where}: reads the sibling vectors folder: ${line.trim()}`)
      for (const [, , text] of line.matchAll(LITERAL)) {
        if (text.includes('${')) continue
        if (/^\.\.?\//.test(text) && relative(root, resolve(dir, text)).startsWith('..'))
          problems.push(`${where}: relative path leaves the repository: ${text}`)
        else if (MACHINE_ROOT.test(text)) problems.push(`${where}: machine-specific absolute path: ${text}`)
      }
    })
}
if (problems.length > 0) {
  console.error(`Paths outside the repository (tests must pass in a fresh clone with nothing beside it):`)
  for (const p of problems) console.error(`  ${p}`)
  process.exit(1)
}
