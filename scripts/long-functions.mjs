#!/usr/bin/env node
// Lists the functions of packages/*/src longer than a number of lines (default 80), longest first,
// and the largest src files: the figures issue 15 asks for ("no function over about 80 lines",
// "no src file over 500 lines"). Reads the sources with the TypeScript compiler API; changes nothing.
//
//   node scripts/long-functions.mjs [minLines=80] [--files N]
import { readdirSync, readFileSync, statSync } from 'node:fs'
import { join, relative } from 'node:path'
import ts from 'typescript'

const root = new URL('..', import.meta.url).pathname
const args = process.argv.slice(2)
const minLines = Number(args.find((a) => /^\d+$/.test(a)) ?? 80)
const filesIdx = args.indexOf('--files')
const topFiles = filesIdx === -1 ? 10 : Number(args[filesIdx + 1])

function* sources(dir) {
  for (const name of readdirSync(dir)) {
    const p = join(dir, name)
    if (statSync(p).isDirectory()) yield* sources(p)
    else if (p.endsWith('.ts') && !p.endsWith('.d.ts')) yield p
  }
}

function nameOf(node, sf) {
  if (node.name) return node.name.getText(sf)
  const parent = node.parent
  if (parent && ts.isVariableDeclaration(parent)) return parent.name.getText(sf)
  if (parent && ts.isPropertyAssignment(parent)) return parent.name.getText(sf)
  return '(anonymous)'
}

const functions = []
const files = []
const packages = join(root, 'packages')
for (const pkg of readdirSync(packages)) {
  const src = join(packages, pkg, 'src')
  try {
    statSync(src)
  } catch {
    continue
  }
  for (const file of sources(src)) {
    const text = readFileSync(file, 'utf8')
    const rel = relative(root, file)
    files.push({ rel, lines: text.split('\n').length })
    const sf = ts.createSourceFile(file, text, ts.ScriptTarget.Latest, true)
    const visit = (node) => {
      if (ts.isFunctionLike(node) && 'body' in node && node.body) {
        const start = sf.getLineAndCharacterOfPosition(node.getStart(sf)).line + 1
        const end = sf.getLineAndCharacterOfPosition(node.end).line + 1
        if (end - start + 1 > minLines)
          functions.push({ rel, start, lines: end - start + 1, name: nameOf(node, sf) })
      }
      ts.forEachChild(node, visit)
    }
    visit(sf)
  }
}
functions.sort((a, b) => b.lines - a.lines)
files.sort((a, b) => b.lines - a.lines)
console.log(`functions over ${minLines} lines in packages/*/src: ${functions.length}`)
for (const f of functions) console.log(`${String(f.lines).padStart(5)}  ${f.rel}:${f.start}  ${f.name}`)
console.log(`\nlargest src files (over 500 lines: ${files.filter((f) => f.lines > 500).length})`)
for (const f of files.slice(0, topFiles)) console.log(`${String(f.lines).padStart(5)}  ${f.rel}`)
