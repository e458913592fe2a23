/**
 * The `paths` stage's manifest step: every payload manifest (`manifest-<alg>.txt`, RFC 8493
 * §2.1.3) and tag manifest (`tagmanifest-<alg>.txt`, §2.2.1) is read, parsed and indexed by
 * NFC-normalised path. Manifest lines are untrusted here: each path is checked before it is kept,
 * and nothing is opened by a manifest path (the walk decides what exists).
 *
 * @module
 */
import { KNOWN_ALGORITHMS, type ManifestLine, parseManifest } from '../manifest.js'
import { foldKey, nfc, pathProblem } from '../paths.js'
import { decodeOrFlag } from './declaration.js'
import { type Ctx, type ParsedManifest, type Run, readTag } from './run.js'

/** The algorithm of `<prefix>-<alg>.txt`, or null. */
function algorithmOf(name: string, prefix: string): string | null {
  const m = new RegExp(`^${prefix}-([a-z0-9]+)\\.txt$`).exec(name)
  return m ? (m[1] as string) : null
}

/**
 * Reads every top-level manifest into `ctx.payloadManifests` and `ctx.tagManifests`, strongest
 * algorithm first. `E_NO_PAYLOAD_MANIFEST` when there is no payload manifest.
 */
export async function readManifests(ctx: Ctx, run: Run, maxTag: number): Promise<void> {
  const top = ctx.walkEntries.filter((e) => e.kind === 'file' && !e.path.includes('/'))
  for (const e of top) {
    const payloadAlg = algorithmOf(e.path, 'manifest')
    const tagAlg = algorithmOf(e.path, 'tagmanifest')
    const alg = payloadAlg ?? tagAlg
    if (alg === null) continue
    // RFC 8493 §2.4: the algorithm is named in the file name; we verify the SHA-2 family and,
    // for foreign bags, md5 and sha1 (with a warning).
    if (!KNOWN_ALGORITHMS.includes(alg)) {
      run.add('E_MANIFEST_SYNTAX', e.path, 'unsupported algorithm')
      continue
    }
    if (alg === 'md5' || alg === 'sha1') run.add('W_WEAK_ALGORITHM', e.path, alg)
    const lines = await readManifestLines(ctx, run, e.path, alg, maxTag)
    if (lines === null) continue
    const manifest = indexManifest(run, e.path, alg, lines, payloadAlg !== null, (ctx.decl?.major ?? 0) >= 1)
    ;(payloadAlg !== null ? ctx.payloadManifests : ctx.tagManifests).push(manifest)
  }
  // RFC 8493 §2.1.3: a bag has at least one payload manifest.
  if (ctx.payloadManifests.length === 0) run.add('E_NO_PAYLOAD_MANIFEST')
  // Strongest algorithm first.
  const rank = (m: ParsedManifest): number => KNOWN_ALGORITHMS.indexOf(m.algorithm)
  ctx.payloadManifests.sort((a, b) => rank(a) - rank(b))
  ctx.tagManifests.sort((a, b) => rank(a) - rank(b))
}

/** Reads and parses one manifest file; null (with a finding) when it cannot be used. */
async function readManifestLines(
  ctx: Ctx,
  run: Run,
  name: string,
  alg: string,
  maxTag: number,
): Promise<ManifestLine[] | null> {
  const bytes = await readTag(ctx, name, maxTag)
  if (bytes === 'too-large' || bytes === null) {
    run.add('E_TOO_LARGE', name)
    return null
  }
  const text = decodeOrFlag(run, ctx, bytes, name)
  if (text === null) return null
  // RFC 8493 §2.1.3: manifest lines are "<checksum> <filepath>"; in 1.0 the path percent-encodes
  // CR, LF and "%" (earlier versions store it literally).
  const parsed = parseManifest(text, alg, (ctx.decl?.major ?? 0) >= 1)
  if ('badLine' in parsed) {
    run.add('E_MANIFEST_SYNTAX', name, `line ${parsed.badLine}`)
    return null
  }
  return parsed.lines
}

/** Checks each line's path and indexes the lines by NFC key (duplicates and case twins flagged). */
function indexManifest(
  run: Run,
  name: string,
  alg: string,
  lines: readonly ManifestLine[],
  payload: boolean,
  v1: boolean,
): ParsedManifest {
  const manifest: ParsedManifest = { algorithm: alg, file: name, entries: new Map() }
  const byKey = new Map<string, ManifestLine[]>()
  for (const line of lines) {
    if (line.md5sumStyle) run.add('W_MD5SUM_STYLE', name, `line ${line.line}`)
    if (line.dotSlash) run.add('W_RELATIVE_PATH', name, `line ${line.line}`)
    // RFC 8493 §5.1: a hostile manifest may name "/…", "..", "~user": refuse, never resolve.
    const problem = pathProblem(line.path)
    if (problem !== null) {
      run.add('E_UNSAFE_PATH', line.path, problem)
      continue
    }
    // RFC 8493 §2.1.3: payload manifests list files under data/ only; §2.2.1: tag manifests
    // list tag files, never payload files.
    const inPayload = line.path.startsWith('data/')
    if (payload && !inPayload) {
      run.add('E_UNSAFE_PATH', line.path, 'outside payload')
      continue
    }
    if (!payload && inPayload) {
      run.add('E_UNSAFE_PATH', line.path, 'payload in tag manifest')
      continue
    }
    const key = nfc(line.path)
    const group = byKey.get(key) ?? []
    group.push(line)
    byKey.set(key, group)
  }
  const folds = new Map<string, string>()
  for (const [key, group] of byKey) {
    // RFC 8493 §2.1.3 (1.0): a payload file is listed once per manifest; identical duplicates
    // were tolerated before 1.0.
    const digests = new Set(group.map((l) => l.digest))
    if (group.length > 1) run.add(digests.size > 1 || v1 ? 'E_DUPLICATE_ENTRY' : 'W_DUPLICATE_ENTRY', key)
    manifest.entries.set(key, { digest: group[0]?.digest as string, raw: group.map((l) => l.path) })
    const fold = foldKey(key)
    if (folds.has(fold)) run.add('W_CASE_COLLISION', key)
    folds.set(fold, key)
  }
  return manifest
}
