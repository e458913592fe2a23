/**
 * Every TypeScript code block in the repository's Markdown type-checks as a user would paste it:
 * the package READMEs, the root README, the examples' READMEs, the docs pages, and any other
 * Markdown file outside generated and installed folders. Each block fenced as ```ts or
 * ```typescript becomes one virtual file beside its Markdown file (nothing added to it) and is
 * compiled as a standalone ES module against the packages' sources with the repository's strict
 * settings: a block brings its own imports, declares what it takes from the app
 * (`declare const user: …`), and has no top-level `return`.
 *
 * A block may opt out only with a marker and a reason on its fence line:
 * ```ts no-check: <why this block cannot stand alone>
 * The number of opted-out blocks, and their reasons, are printed; a marker without a reason fails.
 */
import { readdirSync, readFileSync, statSync } from 'node:fs'
import { basename, dirname, join, relative, resolve } from 'node:path'
import ts from 'typescript'

const docs = resolve(import.meta.dirname, '..')
const repo = resolve(docs, '..')
/** Folders that hold generated, installed or build output, never hand-written Markdown. */
const SKIP_DIRS = new Set([
  'node_modules',
  'dist',
  '.git',
  '.reports',
  '.examples',
  'api',
  'cache',
  'coverage',
])

/** Every Markdown file under `dir`, sorted. */
export function markdownFiles(dir: string): string[] {
  const found: string[] = []
  for (const name of readdirSync(dir).sort()) {
    const p = join(dir, name)
    if (statSync(p).isDirectory()) {
      if (!SKIP_DIRS.has(name)) found.push(...markdownFiles(p))
    } else if (name.endsWith('.md')) found.push(p)
  }
  return found
}

/** One TypeScript block of a Markdown file. */
export interface Fence {
  /** 1-based line of the first code line. */
  line: number
  code: string
  /** The reason after `no-check:`, when the block opts out ('' when the marker has no reason). */
  optOut?: string
}

/** The ```ts and ```typescript blocks of a Markdown text. */
export function tsFences(text: string): Fence[] {
  const fences: Fence[] = []
  for (const m of text.matchAll(/^```(?:ts|typescript)(?=[\s{]|$)([^\n]*)\n([\s\S]*?)^```/gm)) {
    const info = m[1] ?? ''
    const line = text.slice(0, m.index).split('\n').length + 1
    const marker = /\bno-check\b:?\s*(.*)$/.exec(info)
    fences.push({ line, code: m[2] ?? '', ...(marker ? { optOut: (marker[1] ?? '').trim() } : {}) })
  }
  return fences
}

/**
 * Where a block of `markdown` is compiled: a virtual file beside the Markdown file, so a relative
 * import means what it says there (an example README's `./src/plugin.js` is that example's source).
 */
function virtualName(markdown: string, index: number): string {
  return join(dirname(markdown), `__${basename(markdown, '.md')}_example_${index + 1}.ts`)
}

function main(): void {
  const blocks = new Map<string, string>() // virtual file name -> code
  const origin = new Map<string, string>()
  const optedOut: string[] = []
  const problems: string[] = []
  for (const page of markdownFiles(repo)) {
    const where = relative(repo, page)
    tsFences(readFileSync(page, 'utf8')).forEach((f, i) => {
      if (f.optOut !== undefined) {
        if (f.optOut.length < 10)
          problems.push(`${where}:${f.line}: "no-check" needs a reason ("no-check: why")`)
        optedOut.push(`${where}:${f.line}: ${f.optOut}`)
        return
      }
      const name = virtualName(page, i)
      blocks.set(name, f.code)
      origin.set(name, `${where}:${f.line}`)
    })
  }

  const base = ts.readConfigFile(resolve(repo, 'tsconfig.base.json'), ts.sys.readFile).config as {
    compilerOptions: Record<string, unknown>
  }
  const { options } = ts.convertCompilerOptionsFromJson(
    {
      ...base.compilerOptions,
      types: ['node'],
      // A snippet is an app's code, not a library's: no declaration output, and a name it shows
      // for illustration need not be used.
      isolatedDeclarations: false,
      declaration: false,
      noUnusedLocals: false,
      noEmit: true,
      // Modules, as in an app with "type": "module", whether or not the block imports anything.
      moduleDetection: 'force',
    },
    docs,
  )
  const host = ts.createCompilerHost(options)
  const getSourceFile = host.getSourceFile.bind(host)
  host.getSourceFile = (name, version, ...rest) => {
    const code = blocks.get(resolve(name))
    return code === undefined
      ? getSourceFile(name, version, ...rest)
      : ts.createSourceFile(name, code, version)
  }
  const fileExists = host.fileExists.bind(host)
  host.fileExists = (name) => blocks.has(resolve(name)) || fileExists(name)
  // Bare specifiers resolve from the Markdown file's folder first (an example's own dependencies),
  // then from the docs site, whose devDependencies hold what the guides import (express, hono, …).
  const fallback = join(docs, 'index.ts')
  host.resolveModuleNameLiterals = (literals, containingFile, redirected, opts) =>
    literals.map((literal) => {
      const name = literal.text
      const first = ts.resolveModuleName(name, containingFile, opts, host, undefined, redirected)
      if (first.resolvedModule !== undefined || name.startsWith('.')) return first
      return ts.resolveModuleName(name, fallback, opts, host, undefined, redirected)
    })
  const files = [...blocks.keys()]
  const program = ts.createProgram(files, options, host)
  const diagnostics = ts
    .getPreEmitDiagnostics(program)
    .filter((d) => d.file && blocks.has(resolve(d.file.fileName)))
  for (const d of diagnostics) {
    const where = origin.get(resolve(d.file?.fileName ?? '')) ?? '?'
    const pos = d.file && d.start !== undefined ? d.file.getLineAndCharacterOfPosition(d.start).line : 0
    problems.push(`${where} (+${pos}): ${ts.flattenDiagnosticMessageText(d.messageText, '\n')}`)
  }
  for (const p of problems) console.error(`docs example ${p}`)
  for (const o of optedOut) console.error(`docs example opted out: ${o}`)
  console.error(
    `docs: ${files.length} code example(s) type-checked, ${optedOut.length} opted out, ${problems.length} error(s)`,
  )
  if (problems.length > 0) process.exit(1)
}

if (process.argv[1] && resolve(process.argv[1]) === resolve(import.meta.filename)) main()
