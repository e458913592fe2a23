/**
 * The `paths` stage's fetch step: `fetch.txt` (RFC 8493 §2.2.3) lists payload files to be
 * downloaded. We never fetch (RFC 8493 §5.2: its URLs are the bag author's, not ours to follow);
 * we only check its paths and remember them, so that completeness can report a listed file that
 * was never fetched (`E_FETCH_UNRESOLVED`).
 *
 * @module
 */
import { nfc, pathProblem } from '../paths.js'
import { splitLines } from '../tag-files.js'
import { decodeOrFlag } from './declaration.js'
import { type Ctx, type Run, readTag } from './run.js'

/** Reads `fetch.txt` (optional) into `ctx.fetchPaths`. */
export async function readFetch(ctx: Ctx, run: Run, maxTag: number): Promise<void> {
  const fetchBytes = await readTag(ctx, 'fetch.txt', maxTag)
  if (fetchBytes === 'too-large') run.add('E_TOO_LARGE', 'fetch.txt')
  if (fetchBytes === 'too-large' || fetchBytes === null) return
  const text = decodeOrFlag(run, ctx, fetchBytes, 'fetch.txt')
  for (const line of text === null ? [] : splitLines(text)) {
    // RFC 8493 §2.2.3: each line is "<url> <length> <filepath>", length an integer or "-".
    const m = /^(\S+)[ \t]+(\d+|-)[ \t]+(.+)$/.exec(line)
    if (!m) {
      run.add('E_MANIFEST_SYNTAX', 'fetch.txt')
      continue
    }
    let path = m[3] as string
    // RFC 8493 §2.2.3 (1.0): the path percent-encodes CR, LF and "%", as in manifests.
    if ((ctx.decl?.major ?? 0) >= 1)
      path = path.replace(/%(0[dD]|0[aA]|25)/g, (x) =>
        x === '%25' ? '%' : x.toLowerCase() === '%0d' ? '\r' : '\n',
      )
    // RFC 8493 §5.1 and §2.2.3: a fetched file must land under data/, at a safe path.
    const problem = pathProblem(path)
    if (problem !== null || !path.startsWith('data/'))
      run.add('E_UNSAFE_PATH', path, problem ?? 'outside payload')
    else ctx.fetchPaths.add(nfc(path))
  }
}
