/**
 * Every TypeScript code block in the hand-written docs pages type-checks against the packages'
 * sources. Blocks fenced as ```ts or ```typescript are extracted to `.examples/` (one module per
 * block) and compiled with the repository's strict settings; a block fenced ```ts no-check is
 * skipped (use it only for fragments that cannot stand alone, and say why next to it).
 */
import { mkdirSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs'
import { join, relative, resolve } from 'node:path'
import ts from 'typescript'

const docs = resolve(import.meta.dirname, '..')
const out = resolve(docs, '.examples')
const SKIP_DIRS = new Set(['api', 'node_modules', '.vitepress', '.examples', 'test', 'scripts', 'public'])

function pages(dir: string): string[] {
  const found: string[] = []
  for (const name of readdirSync(dir).sort()) {
    const p = join(dir, name)
    if (statSync(p).isDirectory()) {
      if (!SKIP_DIRS.has(name)) found.push(...pages(p))
    } else if (name.endsWith('.md')) found.push(p)
  }
  return found
}

rmSync(out, { recursive: true, force: true })
mkdirSync(out, { recursive: true })
const files: string[] = []
const origin = new Map<string, string>()
for (const page of pages(docs)) {
  const text = readFileSync(page, 'utf8')
  let n = 0
  for (const m of text.matchAll(/^```(ts|typescript)([^\n]*)\n([\s\S]*?)^```/gm)) {
    n++
    if ((m[2] ?? '').includes('no-check')) continue
    const line = text.slice(0, m.index).split('\n').length
    const name = `${relative(docs, page).replace(/[/.]/g, '_')}_${n}.ts`
    writeFileSync(join(out, name), `${m[3]}\nexport {}\n`)
    files.push(join(out, name))
    origin.set(join(out, name), `${relative(docs, page)}:${line + 1}`)
  }
}

const base = ts.readConfigFile(resolve(docs, '../tsconfig.base.json'), ts.sys.readFile).config as {
  compilerOptions: Record<string, unknown>
}
const { options } = ts.convertCompilerOptionsFromJson(
  {
    ...base.compilerOptions,
    types: ['node'],
    isolatedDeclarations: false,
    noUnusedLocals: false,
    noEmit: true,
  },
  docs,
)
const program = ts.createProgram(files, options)
const diagnostics = ts.getPreEmitDiagnostics(program).filter((d) => d.file && files.includes(d.file.fileName))
for (const d of diagnostics) {
  const where = origin.get(d.file?.fileName ?? '') ?? '?'
  const pos = d.file && d.start !== undefined ? d.file.getLineAndCharacterOfPosition(d.start).line : 0
  console.error(`docs example ${where} (+${pos}): ${ts.flattenDiagnosticMessageText(d.messageText, '\n')}`)
}
console.error(`docs: ${files.length} code example(s) type-checked, ${diagnostics.length} error(s)`)
if (diagnostics.length > 0) process.exit(1)
