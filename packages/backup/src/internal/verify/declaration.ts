/**
 * The first step of the `paths` stage: the bag declaration (`bagit.txt`, RFC 8493 §2.1.1) and the
 * bag metadata (`bag-info.txt`, §2.2.2), read from files the walk found.
 *
 * @module
 */
import { decodeTagFile, parseBagDeclaration, parseBagInfo } from '../tag-files.js'
import { type Ctx, type Run, readTag } from './run.js'

/** Decodes a tag file in the declared encoding; an undecodable one is `E_TAG_FILE_ENCODING`. */
export function decodeOrFlag(run: Run, ctx: Ctx, bytes: Uint8Array, name: string): string | null {
  try {
    // RFC 8493 §2.1.1: every tag file is in the Tag-File-Character-Encoding bagit.txt names.
    return decodeTagFile(bytes, ctx.decl?.encoding ?? 'UTF-8')
  } catch {
    run.add('E_TAG_FILE_ENCODING', name)
    return null
  }
}

/**
 * Reads `bagit.txt` into `ctx.decl`. Returns false (with an `E_BAG_DECLARATION` finding) when it
 * is missing, too large, malformed or of an unsupported version: nothing else can be read then.
 */
export async function readDeclaration(ctx: Ctx, run: Run): Promise<boolean> {
  // RFC 8493 §2.1.1: bagit.txt is required, exactly "BagIt-Version: M.N" and
  // "Tag-File-Character-Encoding: ENCODING", UTF-8 without a BOM.
  const declBytes = await readTag(ctx, 'bagit.txt', 4096)
  if (declBytes === null || declBytes === 'too-large') {
    run.add('E_BAG_DECLARATION', 'bagit.txt', declBytes === null ? 'missing' : 'too large')
    return false
  }
  const decl = parseBagDeclaration(declBytes)
  // Versions read: 1.0 (RFC 8493) and the 0.93–0.97 drafts (the conformance suite's bags).
  const versionOk =
    decl !== null && ((decl.major === 1 && decl.minor === 0) || (decl.major === 0 && decl.minor >= 93))
  if (!decl || !versionOk) {
    run.add('E_BAG_DECLARATION', 'bagit.txt', decl ? 'unsupported version' : 'malformed')
    return false
  }
  ctx.decl = decl
  return true
}

/** Reads `bag-info.txt` (optional) into `ctx.info`. */
export async function readBagInfo(ctx: Ctx, run: Run): Promise<void> {
  // RFC 8493 §2.2.2: bag-info.txt is optional, "Label: value" lines, continued by indented lines.
  const infoBytes = await readTag(ctx, 'bag-info.txt', 16 * 1024 * 1024)
  if (infoBytes === 'too-large') run.add('E_TOO_LARGE', 'bag-info.txt')
  else if (infoBytes !== null) {
    const text = decodeOrFlag(run, ctx, infoBytes, 'bag-info.txt')
    const parsed = text === null ? null : parseBagInfo(text)
    if (text !== null && parsed === null) run.add('E_MANIFEST_SYNTAX', 'bag-info.txt')
    ctx.info = parsed ?? []
  }
}
