/**
 * Verifying a bag, in a fixed order that fails closed:
 *
 * 1. `paths`: the bag declaration, every manifest and fetch line (untrusted: no `..`, absolute,
 *    `~`, backslash, drive or control characters; names compared after NFC normalisation), and
 *    the tree itself walked with `lstat` (a symlink or special file anywhere fails the bag).
 *    Nothing outside the bag is ever opened: only files the walk found inside it are read.
 * 2. `signature`: the attestation (allow-listed algorithm, known `kid`), then the tag manifests'
 *    digests against it, then every tag file against the tag manifests, then the chain (`seq`,
 *    `prev`) against the verifier's state. Only after this are manifest lines trusted.
 * 3. `completeness`: missing and extra payload files, entries missing from a manifest,
 *    Payload-Oxum.
 * 4. `integrity`: every digest of every selected file (all files, or a budgeted sample, least
 *    recently verified first), hashed in parallel in one pass per file.
 * 5. `decryptability`: with a cipher, every selected encrypted file decrypts under its path.
 * 6. `freshness`: the signed creation time is younger than the maximum age (the RPO).
 * 7. `restore`: application restore tests.
 *
 * @module
 */
import { createHash } from 'node:crypto'
import { lstat, realpath } from 'node:fs/promises'
import { join } from 'node:path'
import {
  type Clock,
  createEmitter,
  type Emitter,
  type EventOptions,
  systemClock,
  timingSafeEqual,
  utf8Encode,
} from '@safeguards/core'
import {
  ATTESTATION_FILE,
  type AttestationPayload,
  DEFAULT_ALGORITHMS,
  decodeAttestationUnverified,
  type SignatureAlgorithm,
  type VerificationKey,
  verifyAttestation,
} from './attestation.js'
import { exitCodeForFindings, type Finding, type FindingCode, STAGES, type Stage } from './findings.js'
import { defaultConcurrency, type HashJob, hashFiles } from './internal/hash-pool.js'
import { KNOWN_ALGORITHMS, type ManifestLine, parseManifest } from './internal/manifest.js'
import { foldKey, isSystemFile, nfc, pathProblem } from './internal/paths.js'
import { openWalked, readWalked } from './internal/safe-open.js'
import { streamThrough } from './internal/stream-file.js'
import {
  type BagDeclaration,
  type BagInfoEntry,
  bagInfoValue,
  decodeTagFile,
  parseBagDeclaration,
  parseBagInfo,
  parseOxum,
  splitLines,
} from './internal/tag-files.js'
import { type WalkEntry, walk } from './internal/walk.js'
import { type PayloadCipher, payloadContext } from './payload-cipher.js'
import { REPORT_SCHEMA_VERSION, type StageResult, type VerifyReport } from './report.js'
import type { RestoreTest } from './restore-test.js'
import { emptyVerifyState, type VerifyState } from './verify-state.js'
import { BACKUP_VERSION } from './version.js'

/** Progress of a verification. */
export interface VerifyProgress {
  filesDone: number
  filesTotal: number
  bytesDone: number
  bytesTotal: number
}

/**
 * Options for {@link verifyBag}. `events` receives one `backup.verified` or `backup.failed` event
 * per run (see the README's Events section).
 */
export interface VerifyOptions extends EventOptions {
  /**
   * Public keys (from `importVerificationKeys`, at least one). Giving keys means a valid signature
   * by one of them is required: a bag without `attestation.jws` then fails with
   * `E_SIGNATURE_MISSING` (exit 3). Without keys the signature cannot be checked (see
   * `W_SIGNATURE_UNVERIFIED`).
   */
  publicKeys?: readonly VerificationKey[]
  /**
   * Fail (exit 3) when the bag has no attestation or it cannot be verified. Implied by
   * `publicKeys`: `false` does not turn the requirement off when keys are given.
   */
  requireSignature?: boolean
  /** Allowed signature algorithms (a subset of EdDSA, Ed25519, ES256). */
  algorithms?: readonly SignatureAlgorithm[]
  /** State from the previous run: chain heads and coverage. Updated state is returned. */
  state?: VerifyState
  /** Maximum age of the newest attestation (the RPO), in ms. */
  maxAgeMs?: number
  /** Allowed clock skew for timestamps in the future (default 5 minutes). */
  clockSkewMs?: number
  /** Decrypts encrypted payload files for the decryptability check. */
  cipher?: PayloadCipher
  /** Restore tests, run last. */
  restoreTests?: readonly RestoreTest[]
  /**
   * Payload manifests whose digests are checked (default: every manifest, as RFC 8493 validation
   * requires). Completeness still checks every manifest. Names absent from the bag are ignored;
   * if none is present, every manifest is checked. A run that skips a manifest is `partial`.
   */
  manifestAlgorithms?: readonly string[]
  /** Budget for content hashing: stop starting new files after this many bytes or ms. */
  budget?: { maxBytes?: number; maxMs?: number }
  /** Hashing worker threads (default: available parallelism). */
  concurrency?: number
  /** Largest tag file read (default 512 MiB). */
  maxTagFileBytes?: number
  /** Largest file given to the cipher in one piece (default 1 GiB). */
  maxDecryptBytes?: number
  /** Clock. */
  clock?: Clock
  /** Progress callback (content hashing). */
  onProgress?: (progress: VerifyProgress) => void
}

/** The result of {@link verifyBag}: the report, and the state to keep for the next run. */
export interface VerifyResult {
  report: VerifyReport
  state: VerifyState
}

interface ParsedManifest {
  algorithm: string
  file: string
  entries: Map<string, { digest: string; raw: string[] }>
}

class Run {
  readonly findings: Finding[] = []
  readonly stages: StageResult[] = []
  stage: Stage = 'paths'
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
  failedIn(stage: Stage): boolean {
    return this.findings.some((f) => f.stage === stage && f.severity === 'error')
  }
}

function hexEqual(a: string, b: string): boolean {
  return timingSafeEqual(utf8Encode(a.toLowerCase()), utf8Encode(b.toLowerCase()))
}

function algorithmOf(name: string, prefix: string): string | null {
  const m = new RegExp(`^${prefix}-([a-z0-9]+)\\.txt$`).exec(name)
  return m ? (m[1] as string) : null
}

/**
 * Verifies the bag at `bagDir`. A problem is a finding in the returned report, never a throw;
 * `report.exitCode` gives the CLI's exit code (0 ok, 1 integrity, 3 authenticity, 4 stale,
 * 5 not decryptable or restore failed, 6 unreadable).
 *
 * Events: one `backup.verified` (`counts.files`, `counts.bytes`, `counts.filesVerified`,
 * `counts.bytesVerified`, `bagId`) when the report's exit code is 0, otherwise one `backup.failed`
 * (`code`: the first error finding, `counts.findings`: the error findings, `bagId`).
 *
 * HIPAA: implements 164.312(c)(2) mechanism to authenticate ePHI for backups (digests and
 * signature); supports 164.308(a)(7)(ii)(A) data backup plan, (B) disaster recovery plan and
 * (D) testing and revision procedures (it is one test step; testing and revising the plan stay
 * yours), and 164.312(c)(1) integrity.
 *
 * @hipaa 164.308(a)(7)(ii)(D) supports
 * @hipaa 164.308(a)(7)(ii)(B) supports
 * @hipaa 164.308(a)(7)(ii)(A) supports
 * @hipaa 164.312(c)(2) implements
 * @hipaa 164.312(c)(1) supports
 * @nist CP-9(1) 164.308(a)(7)(ii)(A)
 * @nist CP-10 164.308(a)(7)(ii)(B): checks that a backup can be decrypted and restored (restore-test hook) before it is needed
 * @nist SI-7 164.312(c)(2)
 * @nist SI-7(6) 164.312(c)(2): SHA-512 and SHA-256 manifests and an Ed25519-signed attestation are checked
 * @nist SI-7 164.312(c)(1)
 * @evidence a versioned JSON verification report (paths, signature, completeness, integrity, decryptability, freshness, restore tests) and failure alerts carrying codes and counts only
 * @appResponsibility Run verification on a schedule, act on alerts immediately, and run full restore drills; the verifier is evidence, not the disaster-recovery plan.
 * @config maxAgeMs (RPO), requireSignature, budget, restore-test hook, alert sinks
 * @verifiedBy packages/backup/test/verify.test.ts
 * @verifiedBy packages/backup/test/state-and-hooks.test.ts
 * @verifiedBy packages/backup/test/alerts.test.ts
 *
 * @throws {TypeError} for malformed options (including `publicKeys: []`); never for a malformed or
 *   hostile bag.
 * @throws {EventSinkError} (`ERR_EVENT_SINK`) when a critical event sink fails (the report is
 *   then not returned: fail closed).
 * @example
 * ```ts
 * const { report, state } = await verifyBag('/backups/2026-11-22', {
 *   publicKeys, requireSignature: true, maxAgeMs: 36 * 3600_000, state: await loadVerifyState(statePath),
 * })
 * await saveVerifyState(statePath, state)
 * process.exitCode = report.exitCode
 * ```
 */
export async function verifyBag(bagDir: string, options: VerifyOptions = {}): Promise<VerifyResult> {
  if (typeof bagDir !== 'string' || bagDir === '') throw new TypeError('"bagDir" expected a path')
  if (options.publicKeys !== undefined) {
    if (!Array.isArray(options.publicKeys) || options.publicKeys.length === 0)
      throw new TypeError('"publicKeys" expected at least one key')
  }
  const clock = options.clock ?? systemClock
  const emitter = createEmitter(options)
  const started = clock.now()
  const run = new Run()
  const state: VerifyState = structuredClone(options.state ?? emptyVerifyState())
  const maxTag = options.maxTagFileBytes ?? 512 * 1024 * 1024
  const ctx: Ctx = {
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

  const stageFns: Record<Stage, () => Promise<'passed' | 'skipped'>> = {
    paths: () => pathsStage(bagDir, ctx, run, maxTag),
    signature: () => signatureStage(ctx, run, options, state, maxTag),
    completeness: () => completenessStage(ctx, run),
    integrity: () => integrityStage(ctx, run, options, state, clock),
    decryptability: () => decryptStage(ctx, run, options),
    freshness: () => freshnessStage(ctx, run, options, clock),
    restore: () => restoreStage(ctx, run, options, clock),
  }
  let stopped = false
  for (const stage of STAGES) {
    if (stopped) {
      run.stages.push({ stage, status: 'not-run', durationMs: 0 })
      continue
    }
    run.stage = stage
    const t0 = clock.now()
    const outcome = await stageFns[stage]()
    const failed = run.failedIn(stage)
    run.stages.push({ stage, status: failed ? 'failed' : outcome, durationMs: clock.now() - t0 })
    // Integrity still runs after a completeness failure, to report every damaged file.
    if (failed && stage !== 'completeness') stopped = true
    if (stage === 'integrity' && run.failedIn('completeness')) stopped = true
  }

  const exitCode = exitCodeForFindings(run.findings)
  const payloadBytes = ctx.matched.reduce((s, m) => s + m.entry.size, 0)
  const bytesVerified = ctx.selected.reduce((s, m) => s + m.entry.size, 0)
  const complete =
    ctx.selected.length === ctx.matched.length && ctx.checked.length === ctx.payloadManifests.length
  const createdAt = ctx.attestation?.createdAt ?? null
  if (exitCode === 0 && ctx.signed && ctx.attestation && ctx.attestationDigest) {
    const head = state.chains[ctx.attestation.backupSetId]
    if (!head || head.seq <= ctx.attestation.seq)
      state.chains[ctx.attestation.backupSetId] = {
        seq: ctx.attestation.seq,
        attestationSha256: ctx.attestationDigest,
        createdAt: ctx.attestation.createdAt,
      }
  }
  const count = (codes: FindingCode[]): number => run.findings.filter((f) => codes.includes(f.code)).length
  const report: VerifyReport = {
    schemaVersion: REPORT_SCHEMA_VERSION,
    tool: { name: '@safeguards/backup', version: BACKUP_VERSION },
    status: exitCode !== 0 ? 'failed' : complete ? 'ok' : 'partial',
    exitCode,
    startedAt: new Date(started).toISOString(),
    finishedAt: new Date(clock.now()).toISOString(),
    bag: {
      bagItVersion: ctx.decl?.version ?? null,
      bagId: ctx.attestation?.bagId ?? bagInfoValue(ctx.info, 'External-Identifier') ?? null,
      backupSetId: ctx.attestation?.backupSetId ?? bagInfoValue(ctx.info, 'Bag-Group-Identifier') ?? null,
      payloadFiles: ctx.matched.length,
      payloadBytes,
      encrypted: isEncrypted(ctx),
      algorithms: ctx.payloadManifests.map((m) => m.algorithm),
    },
    attestation:
      ctx.attestationJws === null
        ? null
        : {
            verified: ctx.signed,
            kid: ctx.kid ?? null,
            alg: ctx.alg ?? null,
            seq: ctx.attestation?.seq ?? null,
            createdAt,
            sha256: ctx.attestationDigestRaw ?? '',
          },
    stages: run.stages,
    findings: run.findings,
    counts: {
      errors: run.findings.filter((f) => f.severity === 'error').length,
      warnings: run.findings.filter((f) => f.severity === 'warning').length,
      filesHashed: ctx.filesHashed,
      bytesHashed: ctx.bytesHashed,
      missing: count(['E_MISSING', 'E_TAG_FILE_MISSING']),
      extra: count(['E_EXTRA']),
      changed: count(['E_DIGEST_MISMATCH', 'E_TAG_FILE_MISMATCH', 'E_RENAMED_NORMALIZATION']),
      unreadable: count(['E_UNREADABLE', 'E_CHANGED_DURING_READ']),
    },
    coverage: {
      filesVerified: ctx.selected.length,
      filesTotal: ctx.matched.length,
      bytesVerified,
      bytesTotal: payloadBytes,
      ratio: ctx.matched.length === 0 ? 1 : ctx.selected.length / ctx.matched.length,
      complete,
      algorithms: ctx.checked.map((m) => m.algorithm),
      filesEverVerified: ctx.everVerified,
      oldestVerifiedAt: ctx.oldest === null ? null : new Date(ctx.oldest).toISOString(),
    },
    freshness: ctx.freshness ?? {
      timestamp: null,
      signed: false,
      ageMs: null,
      maxAgeMs: options.maxAgeMs ?? null,
    },
    restoreTests: ctx.restore,
  }
  await emitOutcome(emitter, report, clock)
  return { report, state }
}

/** Emits the run's one event: `backup.verified` when the exit code is 0, else `backup.failed`. */
async function emitOutcome(emitter: Emitter, report: VerifyReport, clock: Clock): Promise<void> {
  if (!emitter.active) return
  const bagId = report.bag.bagId === null ? {} : { bagId: report.bag.bagId }
  const source = '@safeguards/backup'
  if (report.exitCode === 0) {
    await emitter.emit({
      type: 'backup.verified',
      at: clock.now(),
      source,
      outcome: 'success',
      ...bagId,
      counts: {
        files: report.bag.payloadFiles,
        bytes: report.bag.payloadBytes,
        filesVerified: report.coverage.filesVerified,
        bytesVerified: report.coverage.bytesVerified,
      },
    })
    return
  }
  const errors = report.findings.filter((f) => f.severity === 'error')
  await emitter.emit({
    type: 'backup.failed',
    at: clock.now(),
    source,
    outcome: 'failure',
    ...bagId,
    ...(errors[0] === undefined ? {} : { code: errors[0].code }),
    counts: { findings: errors.length },
  })
}

interface Matched {
  key: string
  entry: WalkEntry
}

interface Ctx {
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

function isEncrypted(ctx: Ctx): boolean {
  if (ctx.attestation && ctx.signed) return ctx.attestation.encrypted
  return bagInfoValue(ctx.info, 'Safeguards-Payload-Encryption') !== undefined
}

async function readTag(ctx: Ctx, name: string, maxBytes: number): Promise<Uint8Array | 'too-large' | null> {
  const entry = ctx.walkEntries.find((e) => e.path === name && e.kind === 'file')
  if (!entry) return null
  if (entry.size > maxBytes) return 'too-large'
  return await readWalked(join(ctx.root, name), entry)
}

async function pathsStage(bagDir: string, ctx: Ctx, run: Run, maxTag: number): Promise<'passed'> {
  try {
    ctx.root = await realpath(bagDir)
    if (!(await lstat(ctx.root)).isDirectory()) throw new Error('not a directory')
    ctx.walkEntries = await walk(ctx.root)
  } catch {
    run.add('E_NOT_A_BAG')
    return 'passed'
  }
  for (const e of ctx.walkEntries) if (e.kind !== 'file') run.add('E_UNEXPECTED_TYPE', e.path, e.kind)
  const declBytes = await readTag(ctx, 'bagit.txt', 4096)
  if (declBytes === null || declBytes === 'too-large') {
    run.add('E_BAG_DECLARATION', 'bagit.txt', declBytes === null ? 'missing' : 'too large')
    return 'passed'
  }
  const decl = parseBagDeclaration(declBytes)
  const versionOk =
    decl !== null && ((decl.major === 1 && decl.minor === 0) || (decl.major === 0 && decl.minor >= 93))
  if (!decl || !versionOk) {
    run.add('E_BAG_DECLARATION', 'bagit.txt', decl ? 'unsupported version' : 'malformed')
    return 'passed'
  }
  ctx.decl = decl
  const v1 = decl.major >= 1
  const decode = (bytes: Uint8Array, name: string): string | null => {
    try {
      return decodeTagFile(bytes, decl.encoding)
    } catch {
      run.add('E_TAG_FILE_ENCODING', name)
      return null
    }
  }
  const infoBytes = await readTag(ctx, 'bag-info.txt', 16 * 1024 * 1024)
  if (infoBytes === 'too-large') run.add('E_TOO_LARGE', 'bag-info.txt')
  else if (infoBytes !== null) {
    const text = decode(infoBytes, 'bag-info.txt')
    const parsed = text === null ? null : parseBagInfo(text)
    if (text !== null && parsed === null) run.add('E_MANIFEST_SYNTAX', 'bag-info.txt')
    ctx.info = parsed ?? []
  }

  const top = ctx.walkEntries.filter((e) => e.kind === 'file' && !e.path.includes('/'))
  for (const e of top) {
    const payloadAlg = algorithmOf(e.path, 'manifest')
    const tagAlg = algorithmOf(e.path, 'tagmanifest')
    const alg = payloadAlg ?? tagAlg
    if (alg === null) continue
    if (!KNOWN_ALGORITHMS.includes(alg)) {
      run.add('E_MANIFEST_SYNTAX', e.path, 'unsupported algorithm')
      continue
    }
    if (alg === 'md5' || alg === 'sha1') run.add('W_WEAK_ALGORITHM', e.path, alg)
    const bytes = await readTag(ctx, e.path, maxTag)
    if (bytes === 'too-large' || bytes === null) {
      run.add('E_TOO_LARGE', e.path)
      continue
    }
    const text = decode(bytes, e.path)
    if (text === null) continue
    const parsed = parseManifest(text, alg, v1)
    if ('badLine' in parsed) {
      run.add('E_MANIFEST_SYNTAX', e.path, `line ${parsed.badLine}`)
      continue
    }
    const manifest: ParsedManifest = { algorithm: alg, file: e.path, entries: new Map() }
    const byKey = new Map<string, ManifestLine[]>()
    for (const line of parsed.lines) {
      if (line.md5sumStyle) run.add('W_MD5SUM_STYLE', e.path, `line ${line.line}`)
      if (line.dotSlash) run.add('W_RELATIVE_PATH', e.path, `line ${line.line}`)
      const problem = pathProblem(line.path)
      if (problem !== null) {
        run.add('E_UNSAFE_PATH', line.path, problem)
        continue
      }
      const inPayload = line.path.startsWith('data/')
      if (payloadAlg !== null && !inPayload) {
        run.add('E_UNSAFE_PATH', line.path, 'outside payload')
        continue
      }
      if (tagAlg !== null && inPayload) {
        run.add('E_UNSAFE_PATH', line.path, 'payload in tag manifest')
        continue
      }
      const key = nfc(line.path)
      const group = byKey.get(key) ?? []
      group.push(line)
      byKey.set(key, group)
    }
    const folds = new Map<string, string>()
    for (const [key, lines] of byKey) {
      const digests = new Set(lines.map((l) => l.digest))
      if (lines.length > 1) run.add(digests.size > 1 || v1 ? 'E_DUPLICATE_ENTRY' : 'W_DUPLICATE_ENTRY', key)
      manifest.entries.set(key, { digest: lines[0]?.digest as string, raw: lines.map((l) => l.path) })
      const fold = foldKey(key)
      if (folds.has(fold)) run.add('W_CASE_COLLISION', key)
      folds.set(fold, key)
    }
    ;(payloadAlg !== null ? ctx.payloadManifests : ctx.tagManifests).push(manifest)
  }
  if (ctx.payloadManifests.length === 0) run.add('E_NO_PAYLOAD_MANIFEST')
  // Strongest algorithm first.
  const rank = (m: ParsedManifest): number => KNOWN_ALGORITHMS.indexOf(m.algorithm)
  ctx.payloadManifests.sort((a, b) => rank(a) - rank(b))
  ctx.tagManifests.sort((a, b) => rank(a) - rank(b))

  const fetchBytes = await readTag(ctx, 'fetch.txt', maxTag)
  if (fetchBytes === 'too-large') run.add('E_TOO_LARGE', 'fetch.txt')
  else if (fetchBytes !== null) {
    const text = decode(fetchBytes, 'fetch.txt')
    for (const line of text === null ? [] : splitLines(text)) {
      const m = /^(\S+)[ \t]+(\d+|-)[ \t]+(.+)$/.exec(line)
      if (!m) {
        run.add('E_MANIFEST_SYNTAX', 'fetch.txt')
        continue
      }
      let path = m[3] as string
      if (v1)
        path = path.replace(/%(0[dD]|0[aA]|25)/g, (x) =>
          x === '%25' ? '%' : x.toLowerCase() === '%0d' ? '\r' : '\n',
        )
      const problem = pathProblem(path)
      if (problem !== null || !path.startsWith('data/'))
        run.add('E_UNSAFE_PATH', path, problem ?? 'outside payload')
      else ctx.fetchPaths.add(nfc(path))
    }
  }

  const diskKeys = new Map<string, string>()
  for (const e of ctx.walkEntries) {
    const key = nfc(e.path)
    const other = diskKeys.get(key)
    if (other !== undefined && other !== e.path) run.add('E_NAME_COLLISION', key)
    diskKeys.set(key, e.path)
  }
  return 'passed'
}

async function signatureStage(
  ctx: Ctx,
  run: Run,
  options: VerifyOptions,
  state: VerifyState,
  maxTag: number,
): Promise<'passed' | 'skipped'> {
  const bytes = await readTag(ctx, ATTESTATION_FILE, 64 * 1024)
  if (bytes === 'too-large') {
    run.add('E_ATTESTATION_MALFORMED', ATTESTATION_FILE, 'too large')
    return 'passed'
  }
  // A key means a valid signature by it is required (publicKeys is non-empty when given).
  const keys = options.publicKeys ?? []
  const signatureRequired = options.requireSignature === true || keys.length > 0
  if (bytes === null) {
    // Without attestation.jws a bag signed and then stripped looks exactly like an unsigned one:
    // only a verifier that was given a key (or requireSignature) can tell, and it fails here.
    if (signatureRequired) run.add('E_SIGNATURE_MISSING')
    else run.add('W_UNSIGNED')
    return signatureRequired ? 'passed' : 'skipped'
  }
  let jws: string
  try {
    jws = new TextDecoder('utf-8', { fatal: true }).decode(bytes).trim()
  } catch {
    run.add('E_ATTESTATION_MALFORMED', ATTESTATION_FILE)
    return 'passed'
  }
  ctx.attestationJws = jws
  ctx.attestationDigestRaw = createHash('sha256').update(jws).digest('hex')
  const algorithms = options.algorithms ?? DEFAULT_ALGORITHMS
  if (keys.length === 0) {
    // The bag says it is signed (attestation.jws is present), but there is no key to check it.
    // Check everything that needs no key, so a broken claim is not waved through as "unverified":
    // verifyAttestation with no keys runs its key-independent header checks (compact form, typ,
    // crit/b64, allow-listed alg) and then stops at E_UNKNOWN_KEY; the payload is then parsed
    // strictly without trusting it. Nothing read here is used later: the bag stays unsigned.
    const header = await verifyAttestation(jws, [], algorithms)
    const problem = header.valid ? null : header.code === 'E_UNKNOWN_KEY' ? payloadProblem(jws) : header.code
    if (problem !== null) run.add(problem, ATTESTATION_FILE)
    else if (options.requireSignature) run.add('E_SIGNATURE_MISSING', undefined, 'no public key')
    else run.add('W_SIGNATURE_UNVERIFIED', undefined, 'signature not checked: no key given')
    return options.requireSignature || problem !== null ? 'passed' : 'skipped'
  }
  const check = await verifyAttestation(jws, keys, algorithms)
  if (!check.valid) {
    run.add(check.code, ATTESTATION_FILE)
    return 'passed'
  }
  const payload = check.payload
  ctx.kid = check.kid
  ctx.alg = check.alg
  // The tag manifests must be exactly the ones signed.
  for (const alg of ['sha512', 'sha256'] as const) {
    const name = `tagmanifest-${alg}.txt`
    const tm = await readTag(ctx, name, maxTag)
    if (tm === null || tm === 'too-large') {
      run.add('E_TAG_MANIFEST_MISMATCH', name, 'missing')
      continue
    }
    const digest = createHash(alg).update(tm).digest('hex')
    if (!hexEqual(digest, payload.tagManifests[alg])) run.add('E_TAG_MANIFEST_MISMATCH', name)
  }
  if (run.failedIn('signature')) return 'passed'
  await checkTagFiles(ctx, run, maxTag)
  // Every manifest and bag-info.txt must be covered by every tag manifest.
  const required = ctx.walkEntries
    .filter((e) => e.kind === 'file' && !e.path.includes('/'))
    .map((e) => e.path)
    .filter((p) => p === 'bagit.txt' || p === 'bag-info.txt' || p === 'fetch.txt' || /^manifest-/.test(p))
  for (const tm of ctx.tagManifests)
    for (const p of required) if (!tm.entries.has(p)) run.add('E_TAG_FILE_UNCOVERED', p, tm.algorithm)
  for (const e of ctx.walkEntries) {
    if (e.kind !== 'file' || e.path.startsWith('data/') || e.path === ATTESTATION_FILE) continue
    if (/^tagmanifest-/.test(e.path)) continue
    if (!ctx.tagManifests.some((tm) => tm.entries.has(nfc(e.path)))) run.add('W_TAG_FILE_UNLISTED', e.path)
  }
  const infoId = bagInfoValue(ctx.info, 'External-Identifier')
  const infoOxum = bagInfoValue(ctx.info, 'Payload-Oxum')
  if (infoId !== payload.bagId || infoOxum !== payload.payloadOxum)
    run.add('E_ATTESTATION_MALFORMED', 'bag-info.txt', 'does not match the attestation')
  if (run.failedIn('signature')) return 'passed'
  // Chain: replay, rollback, fork.
  const head = state.chains[payload.backupSetId]
  if (head) {
    if (payload.seq < head.seq) run.add('E_ROLLBACK', undefined, `seq ${payload.seq} < ${head.seq}`)
    else if (payload.seq === head.seq && !hexEqual(check.digest, head.attestationSha256))
      run.add('E_REPLAY', undefined, `second attestation with seq ${payload.seq}`)
    else if (payload.seq === head.seq + 1 && !hexEqual(payload.prev ?? '', head.attestationSha256))
      run.add('E_CHAIN_BROKEN', undefined, 'prev does not match the last accepted attestation')
    else if (payload.seq > head.seq + 1)
      run.add('W_SEQUENCE_GAP', undefined, `${payload.seq - head.seq - 1} missing`)
  }
  if (run.failedIn('signature')) return 'passed'
  ctx.attestation = payload
  ctx.attestationDigest = check.digest
  ctx.signed = true
  return 'passed'
}

/** `E_ATTESTATION_MALFORMED` when the attestation's payload is not a well-formed one, else null. */
function payloadProblem(jws: string): 'E_ATTESTATION_MALFORMED' | null {
  try {
    decodeAttestationUnverified(jws)
    return null
  } catch {
    return 'E_ATTESTATION_MALFORMED'
  }
}

/** Checks every tag-manifest line against the tag file (signed bags: in the signature stage). */
async function checkTagFiles(ctx: Ctx, run: Run, maxTag: number): Promise<void> {
  for (const tm of ctx.tagManifests) {
    for (const [key, entry] of tm.entries) {
      const disk = ctx.walkEntries.find((e) => e.kind === 'file' && nfc(e.path) === key)
      if (!disk) {
        run.add(ctx.signed || run.stage === 'signature' ? 'E_TAG_FILE_MISSING' : 'E_MISSING', key)
        continue
      }
      if (disk.size > maxTag) {
        run.add('E_TOO_LARGE', key)
        continue
      }
      let bytes: Uint8Array
      try {
        bytes = await readWalked(join(ctx.root, disk.path), disk)
      } catch {
        run.add('E_UNREADABLE', key)
        continue
      }
      const digest = createHash(tm.algorithm).update(bytes).digest('hex')
      if (!hexEqual(digest, entry.digest)) run.add('E_TAG_FILE_MISMATCH', key, tm.algorithm)
    }
  }
}

async function completenessStage(ctx: Ctx, run: Run): Promise<'passed'> {
  const disk = new Map<string, WalkEntry>()
  for (const e of ctx.walkEntries)
    if (e.kind === 'file' && e.path.startsWith('data/')) disk.set(nfc(e.path), e)
  const keys = new Set<string>()
  for (const m of ctx.payloadManifests) for (const k of m.entries.keys()) keys.add(k)
  for (const key of keys) {
    for (const m of ctx.payloadManifests)
      if (!m.entries.has(key)) run.add('E_NOT_IN_EVERY_MANIFEST', key, m.algorithm)
    const entry = disk.get(key)
    if (!entry) {
      if (ctx.fetchPaths.has(key)) run.add('E_FETCH_UNRESOLVED', key)
      else if (isSystemFile(key) && !ctx.signed) run.add('W_SYSTEM_FILE', key, 'listed but absent')
      else if (caseTwinPresent(ctx, key, disk)) run.add('W_CASE_TWIN', key)
      else run.add('E_MISSING', key)
      continue
    }
    const raws = ctx.payloadManifests.flatMap((m) => m.entries.get(key)?.raw ?? [])
    if (!raws.includes(entry.path)) {
      run.add('E_RENAMED_NORMALIZATION', key)
      continue
    }
    if (isSystemFile(key)) run.add('W_SYSTEM_FILE', key)
    ctx.matched.push({ key, entry })
  }
  for (const [key] of disk) if (!keys.has(key)) run.add('E_EXTRA', key)
  // Unsigned bags: tag-manifest entries must exist (their digests are checked under integrity).
  if (!ctx.signed)
    for (const tm of ctx.tagManifests)
      for (const key of tm.entries.keys())
        if (!ctx.walkEntries.some((e) => e.kind === 'file' && nfc(e.path) === key)) run.add('E_MISSING', key)
  const oxum = bagInfoValue(ctx.info, 'Payload-Oxum')
  const clean = !run.findings.some((f) => f.stage === 'completeness')
  if (oxum !== undefined && clean) {
    const parsed = parseOxum(oxum)
    const bytes = ctx.matched.reduce((s, m) => s + BigInt(m.entry.size), 0n)
    if (!parsed || parsed.bytes !== bytes || parsed.files !== BigInt(ctx.matched.length))
      run.add('E_OXUM_MISMATCH', 'bag-info.txt')
  }
  return 'passed'
}

function caseTwinPresent(ctx: Ctx, key: string, disk: Map<string, WalkEntry>): boolean {
  const fold = foldKey(key)
  for (const m of ctx.payloadManifests) {
    for (const [other, entry] of m.entries) {
      if (other === key || foldKey(other) !== fold || !disk.has(other)) continue
      // Same bytes listed under both names in every manifest: one file on a case-insensitive disk.
      if (ctx.payloadManifests.every((mm) => mm.entries.get(other)?.digest === mm.entries.get(key)?.digest))
        return entry !== undefined
    }
  }
  return false
}

function selectFiles(ctx: Ctx, options: VerifyOptions, state: VerifyState, bagKey: string): Matched[] {
  const coverage = state.coverage?.bag === bagKey ? state.coverage.files : {}
  const budgeted = options.budget?.maxBytes !== undefined
  const ordered = [...ctx.matched].sort((a, b) => {
    const ca = coverage[a.key]
    const cb = coverage[b.key]
    // Failed first, then never verified, then oldest.
    const ra = ca === undefined ? 1 : ca.ok ? 2 : 0
    const rb = cb === undefined ? 1 : cb.ok ? 2 : 0
    if (ra !== rb) return ra - rb
    const ta = ca?.at ?? 0
    const tb = cb?.at ?? 0
    if (ta !== tb) return ta - tb
    // Ties: largest first for a full run (balances the workers), smallest first under a byte
    // budget (covers more files; a never-verified large file still outranks every verified one).
    return budgeted ? a.entry.size - b.entry.size : b.entry.size - a.entry.size
  })
  const maxBytes = options.budget?.maxBytes
  if (maxBytes === undefined) return ordered
  const out: Matched[] = []
  let bytes = 0
  for (const m of ordered) {
    if (out.length > 0 && bytes + m.entry.size > maxBytes) break
    out.push(m)
    bytes += m.entry.size
  }
  return out
}

async function integrityStage(
  ctx: Ctx,
  run: Run,
  options: VerifyOptions,
  state: VerifyState,
  clock: Clock,
): Promise<'passed'> {
  if (!ctx.signed) await checkTagFiles(ctx, run, options.maxTagFileBytes ?? 512 * 1024 * 1024)
  const bagKey = ctx.attestation?.bagId ?? bagInfoValue(ctx.info, 'External-Identifier') ?? `path:${ctx.root}`
  let selected = selectFiles(ctx, options, state, bagKey)
  const wanted = options.manifestAlgorithms
  const chosen =
    wanted === undefined
      ? ctx.payloadManifests
      : ctx.payloadManifests.filter((m) => wanted.includes(m.algorithm))
  ctx.checked = chosen.length > 0 ? chosen : ctx.payloadManifests
  const algorithms = ctx.checked.map((m) => m.algorithm)
  const jobs: HashJob[] = selected.map((m) => ({
    path: join(ctx.root, m.entry.path),
    algorithms,
    ino: m.entry.ino,
    dev: m.entry.dev,
    size: m.entry.size,
  }))
  const start = clock.now()
  const maxMs = options.budget?.maxMs
  const bytesTotal = selected.reduce((s, m) => s + m.entry.size, 0)
  let bytesDone = 0
  let filesDone = 0
  const report = (): void =>
    options.onProgress?.({ filesDone, filesTotal: selected.length, bytesDone, bytesTotal })
  const outcomes = await hashFiles(jobs, {
    concurrency: options.concurrency ?? defaultConcurrency(),
    onBytes: (n) => {
      bytesDone += n
      report()
    },
    onFiles: (n) => {
      filesDone += n
      report()
    },
    ...(maxMs === undefined ? {} : { shouldContinue: () => clock.now() - start < maxMs }),
  })
  selected = selected.filter((_, i) => outcomes.has(i))
  const now = clock.now()
  const files: Record<string, { at: number; ok: boolean }> =
    state.coverage?.bag === bagKey ? state.coverage.files : {}
  const jobIndex = new Map(jobs.map((j, i) => [j.path, i]))
  for (const m of selected) {
    const outcome = outcomes.get(jobIndex.get(join(ctx.root, m.entry.path)) as number)
    if (!outcome) continue
    let ok = true
    if (!outcome.ok) {
      run.add(outcome.error, m.key, outcome.errno)
      ok = false
    } else {
      ctx.filesHashed++
      ctx.bytesHashed += outcome.size
      for (const manifest of ctx.checked) {
        const expected = manifest.entries.get(m.key)?.digest ?? ''
        if (!hexEqual(outcome.digests[manifest.algorithm] ?? '', expected)) {
          run.add('E_DIGEST_MISMATCH', m.key, manifest.algorithm)
          ok = false
        }
      }
    }
    files[m.key] = { at: now, ok }
  }
  const live = new Set(ctx.matched.map((m) => m.key))
  for (const k of Object.keys(files)) if (!live.has(k)) delete files[k]
  state.coverage = { bag: bagKey, files }
  ctx.selected = selected
  ctx.everVerified = Object.keys(files).length
  ctx.oldest =
    ctx.everVerified === ctx.matched.length && ctx.everVerified > 0
      ? Math.min(...Object.values(files).map((f) => f.at))
      : null
  return 'passed'
}

async function decryptStage(ctx: Ctx, run: Run, options: VerifyOptions): Promise<'passed' | 'skipped'> {
  if (!isEncrypted(ctx)) return 'skipped'
  if (!options.cipher) {
    run.add('W_DECRYPTABILITY_UNCHECKED')
    return 'skipped'
  }
  const bagId = ctx.attestation?.bagId ?? bagInfoValue(ctx.info, 'External-Identifier') ?? ''
  const max = options.maxDecryptBytes ?? 1024 * 1024 * 1024
  const cipher = options.cipher
  for (const m of ctx.selected) {
    const context = payloadContext(bagId, m.key)
    const path = join(ctx.root, m.entry.path)
    if (!cipher.decryptStream && m.entry.size > max) {
      run.add('E_NOT_DECRYPTABLE', m.key, 'too large for the cipher')
      continue
    }
    try {
      if (cipher.decryptStream)
        await streamThrough(await openWalked(path, m.entry), null, cipher.decryptStream(context))
      else await cipher.decrypt(await readWalked(path, m.entry), context)
    } catch {
      run.add('E_NOT_DECRYPTABLE', m.key)
    }
  }
  return 'passed'
}

async function freshnessStage(
  ctx: Ctx,
  run: Run,
  options: VerifyOptions,
  clock: Clock,
): Promise<'passed' | 'skipped'> {
  const maxAgeMs = options.maxAgeMs ?? null
  let timestamp: number | null = null
  let signed = false
  if (ctx.signed && ctx.attestation) {
    timestamp = Date.parse(ctx.attestation.createdAt)
    signed = true
  } else {
    const date = bagInfoValue(ctx.info, 'Bagging-Date')
    if (date !== undefined && /^\d{4}-\d{2}-\d{2}$/.test(date)) timestamp = Date.parse(`${date}T00:00:00Z`)
  }
  const now = clock.now()
  ctx.freshness = {
    timestamp: timestamp === null || Number.isNaN(timestamp) ? null : new Date(timestamp).toISOString(),
    signed,
    ageMs: timestamp === null || Number.isNaN(timestamp) ? null : now - timestamp,
    maxAgeMs,
  }
  if (maxAgeMs === null) return 'skipped'
  if (!signed) run.add('W_FRESHNESS_UNSIGNED')
  if (timestamp === null || Number.isNaN(timestamp)) {
    run.add('E_STALE', undefined, 'no timestamp')
    return 'passed'
  }
  if (timestamp > now + (options.clockSkewMs ?? 5 * 60_000)) run.add('E_FUTURE_TIMESTAMP')
  else if (now - timestamp > maxAgeMs)
    run.add('E_STALE', undefined, `age ${Math.round((now - timestamp) / 1000)}s`)
  return 'passed'
}

async function restoreStage(
  ctx: Ctx,
  run: Run,
  options: VerifyOptions,
  clock: Clock,
): Promise<'passed' | 'skipped'> {
  const tests = options.restoreTests ?? []
  if (tests.length === 0) return 'skipped'
  for (const test of tests) {
    const t0 = clock.now()
    const signal = AbortSignal.timeout(test.timeoutMs ?? 10 * 60_000)
    let ok = false
    let detail: string | undefined
    try {
      const r = await test.run({ bagDir: ctx.root, payloadDir: join(ctx.root, 'data'), signal })
      ok = r.ok === true
      detail = r.detail
    } catch {
      ok = false
      detail = 'threw'
    }
    ctx.restore.push({ name: test.name, ok, durationMs: clock.now() - t0 })
    if (!ok)
      run.add(
        'E_RESTORE_TEST_FAILED',
        undefined,
        detail === undefined ? test.name : `${test.name}: ${detail}`,
      )
  }
  return 'passed'
}
