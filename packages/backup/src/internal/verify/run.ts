/**
 * What one verification carries from stage to stage: the findings ({@link Run}) and what the
 * stages learnt about the bag ({@link Ctx}), with the small helpers every stage uses.
 *
 * @module
 */
import { createHash } from 'node:crypto'
import { join } from 'node:path'
import { timingSafeEqual, utf8Encode } from '@safeguards/core'
import type { AttestationPayload, SignatureAlgorithm } from '../../attestation.js'
import type { Finding, FindingCode, Stage } from '../../findings.js'
import type { StageResult, VerifyReport } from '../../report.js'
import { readWalked } from '../safe-open.js'
import { type BagDeclaration, type BagInfoEntry, bagInfoValue } from '../tag-files.js'
import type { WalkEntry } from '../walk.js'

/** Largest tag file read by default (`maxTagFileBytes`). */
export const DEFAULT_MAX_TAG_BYTES: number = 512 * 1024 * 1024

/** A payload or tag manifest: NFC key → its digest and the raw names that listed it. */
export interface ParsedManifest {
  algorithm: string
  file: string
  entries: Map<string, { digest: string; raw: string[] }>
}

/** A payload file listed by the manifests and found on disk under its listed name. */
export interface Matched {
  key: string
  entry: WalkEntry
}

/** The findings and stage results of one run; `stage` is the stage findings are filed under. */
export class Run {
  readonly findings: Finding[] = []
  readonly stages: StageResult[] = []
  stage: Stage = 'paths'
  /** Files a finding under the current stage (`W_` codes are warnings, the rest errors). */
  add(code: FindingCode, path?: string, detail?: string): void {
    const severity = code.startsWith('W_') ? 'warning' : 'error'
    this.findings.push({
      code,
      severity,
      stage: this.stage,
      ...(path === undefined ? {} : { path }),
      ...(detail === undefined ? {} : { detail }),
    })
  }
  /** True when `stage` has an error finding. */
  failedIn(stage: Stage): boolean {
    return this.findings.some((f) => f.stage === stage && f.severity === 'error')
  }
}

/** What the stages learnt about the bag. */
export interface Ctx {
  root: string
  decl: BagDeclaration | null
  info: BagInfoEntry[]
  walkEntries: WalkEntry[]
  payloadManifests: ParsedManifest[]
  tagManifests: ParsedManifest[]
  fetchPaths: Set<string>
  attestation: AttestationPayload | null
  attestationJws: string | null
  attestationDigest?: string
  attestationDigestRaw?: string
  kid?: string
  alg?: SignatureAlgorithm
  signed: boolean
  matched: Matched[]
  selected: Matched[]
  checked: ParsedManifest[]
  bytesHashed: number
  filesHashed: number
  restore: { name: string; ok: boolean; durationMs: number }[]
  everVerified: number
  oldest: number | null
  freshness?: VerifyReport['freshness']
}

/** An empty context. */
export function newCtx(): Ctx {
  return {
    root: '',
    decl: null,
    info: [],
    walkEntries: [],
    payloadManifests: [],
    tagManifests: [],
    fetchPaths: new Set(),
    attestation: null,
    attestationJws: null,
    signed: false,
    matched: [],
    selected: [],
    checked: [],
    bytesHashed: 0,
    filesHashed: 0,
    restore: [],
    everVerified: 0,
    oldest: null,
  }
}

/** Compares two hex digests in constant time, case-insensitively. */
export function hexEqual(a: string, b: string): boolean {
  return timingSafeEqual(utf8Encode(a.toLowerCase()), utf8Encode(b.toLowerCase()))
}

/**
 * The hex digest of `bytes` under a manifest algorithm (RFC 8493 §2.4: any of the known
 * algorithms, md5 and sha1 included for foreign bags, so node:crypto by name).
 */
export function digestHex(algorithm: string, bytes: Uint8Array): string {
  return createHash(algorithm).update(bytes).digest('hex')
}

/** The bag id: the verified attestation's, else bag-info.txt's `External-Identifier`. */
export function bagIdOf(ctx: Ctx): string | undefined {
  return ctx.attestation?.bagId ?? bagInfoValue(ctx.info, 'External-Identifier')
}

/** Whether the payload is encrypted: the signed claim when signed, else bag-info.txt's. */
export function isEncrypted(ctx: Ctx): boolean {
  if (ctx.attestation && ctx.signed) return ctx.attestation.encrypted
  return bagInfoValue(ctx.info, 'Safeguards-Payload-Encryption') !== undefined
}

/** Reads a top-level tag file the walk found (null when absent, `too-large` past `maxBytes`). */
export async function readTag(
  ctx: Ctx,
  name: string,
  maxBytes: number,
): Promise<Uint8Array | 'too-large' | null> {
  const entry = ctx.walkEntries.find((e) => e.path === name && e.kind === 'file')
  if (!entry) return null
  if (entry.size > maxBytes) return 'too-large'
  return await readWalked(join(ctx.root, name), entry)
}
