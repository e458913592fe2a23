/**
 * The auditor's evidence report: what was verified (audit log, backups), which keys are in use
 * and how old they are, and which session and password policies are in force; signed as a JWS
 * (EdDSA / Ed25519, with `kid`) over the canonical JSON, and rendered as Markdown.
 *
 * The builder takes results that other packages already computed, so this package needs none of
 * them. The report carries codes, counts, sequence numbers, timestamps and key references only:
 * never record contents, file names inside bags, or secrets.
 *
 * @module
 */
import { canonicalize, parseJson, SafeguardsError, type SafeguardsErrorOptions } from '@safeguards/core'
import { CompactSign, compactVerify, importJWK, type JWK } from 'jose'

/** Stable codes of {@link EvidenceError}. */
export type EvidenceErrorCode = 'ERR_EVIDENCE_INPUT' | 'ERR_EVIDENCE_KEY'

/** Bad input to the evidence builder or signer (a misuse, not a failed check). */
export class EvidenceError extends SafeguardsError<EvidenceErrorCode> {
  /** @param code - which failure; @param message - a safe description; @param options - the cause. */
  constructor(code: EvidenceErrorCode, message: string, options?: SafeguardsErrorOptions) {
    super(code, message, {
      category: code === 'ERR_EVIDENCE_KEY' ? 'invalid-argument' : 'invalid-input',
      ...options,
    })
  }
}

/** The fields of an `@safeguards/audit-log` `VerifyReport` the evidence uses. */
export interface AuditLogVerifyInput {
  ok: boolean
  stream: string
  records: number
  checkpoints: { total: number; verified: number }
  anchoredThrough: number | null
  checkpointedThrough: number | null
  findings: readonly { seq: number; code: string; severity: 'error' | 'warning' }[]
}

/** The fields of an `@safeguards/backup` `VerifyReport` the evidence uses. */
export interface BackupVerifyInput {
  status: 'ok' | 'partial' | 'failed'
  exitCode: number
  finishedAt: string
  bag: {
    bagId: string | null
    backupSetId: string | null
    payloadFiles: number
    payloadBytes: number
    encrypted: boolean
  }
  attestation: {
    verified: boolean
    kid: string | null
    seq: number | null
    createdAt: string | null
    sha256: string
  } | null
  findings: readonly { code: string; severity: string }[]
  coverage: { filesVerified: number; filesTotal: number }
}

/** One key version, as `LocalKeyring.list()` describes it. */
export interface KeyVersionInput {
  keyRef: string
  version: number
  state: string
  retired?: boolean
  /** Milliseconds since the epoch, when known. */
  createdAt?: number
  usage?: { wraps: bigint; limit: bigint } | undefined
}

/** A keyring listing. */
export interface KeyringInput {
  name: string
  sealed: boolean
  keys: readonly KeyVersionInput[]
}

/** Session timeouts in force (an `@safeguards/session` `SessionPolicy`). */
export interface SessionPolicyInput {
  defaults: { idleTimeoutMs: number; absoluteTimeoutMs: number }
  roles: Readonly<Record<string, { idleTimeoutMs: number; absoluteTimeoutMs: number }>>
  maxSessionsPerUser: number
  onSessionLimit: string
}

/** Password policy in force (the options given to `checkPasswordPolicy`, resolved). */
export interface PasswordPolicyInput {
  minLength: number
  maxLength: number
  maxBytes: number
  mfa: boolean
  /** The policy's basis, for example `NIST SP 800-63B rev 4`. */
  basis: string
}

/** What {@link buildEvidenceReport} gathers. Omit a section that was not examined. */
export interface EvidenceInputs {
  /** When the report is made (injected clock). */
  now: Date
  /** The audit log verification, with when it ran. */
  auditLog?: { report: AuditLogVerifyInput; verifiedAt: Date }
  /** One backup verification per bag. */
  backups?: readonly BackupVerifyInput[]
  keyring?: KeyringInput
  sessionPolicy?: SessionPolicyInput
  passwordPolicy?: PasswordPolicyInput
  /** Keys older than this fail the key check (default: no limit). */
  maxKeyAgeMs?: number
}

/** A check's name in {@link EvidenceReport.failures}. */
export type EvidenceCheck = 'audit-log' | 'backups' | 'keys'

/** The evidence report (JSON; schema version 1). */
export interface EvidenceReport {
  schemaVersion: 1
  generatedAt: string
  /** True when every check present passed. */
  ok: boolean
  /** The checks that failed. */
  failures: EvidenceCheck[]
  auditLog: {
    ok: boolean
    stream: string
    verifiedAt: string
    records: number
    /** The last sequence number verified intact (seq counts from 0), or null. */
    verifiedThroughSeq: number | null
    checkpoints: { total: number; verified: number }
    anchoredThroughSeq: number | null
    checkpointedThroughSeq: number | null
    findings: { seq: number; code: string; severity: string }[]
  } | null
  backups: {
    ok: boolean
    status: string
    exitCode: number
    verifiedAt: string
    bagId: string | null
    backupSetId: string | null
    payloadFiles: number
    payloadBytes: number
    encrypted: boolean
    filesVerified: number
    signed: boolean
    signingKid: string | null
    attestationSeq: number | null
    attestationSha256: string | null
    createdAt: string | null
    /** Age of the backup at `generatedAt`, in milliseconds, when its creation time is known. */
    ageMs: number | null
    findings: { code: string; severity: string }[]
  }[]
  keys: {
    ok: boolean
    keyring: string
    sealed: boolean
    primary: string | null
    versions: {
      keyRef: string
      version: number
      state: string
      retired: boolean
      createdAt: string | null
      ageMs: number | null
      wraps: string | null
      wrapLimit: string | null
    }[]
  } | null
  sessionPolicy: SessionPolicyInput | null
  passwordPolicy: PasswordPolicyInput | null
}

function iso(d: Date, what: string): string {
  if (!(d instanceof Date) || Number.isNaN(d.getTime()))
    throw new EvidenceError('ERR_EVIDENCE_INPUT', `${what} is not a valid date`)
  return d.toISOString()
}

function ageOf(createdAt: string | null, now: number): number | null {
  if (createdAt === null) return null
  const t = Date.parse(createdAt)
  return Number.isNaN(t) ? null : Math.max(0, now - t)
}

/**
 * Builds the evidence report from results already computed: `verifyLog` (audit-log),
 * `verifyBag` (backup), `LocalKeyring.list()` (envelope), `parsePolicy` (session) and the
 * password policy options. Copies codes, counts, sequence numbers, timestamps and key references
 * only: finding messages and bag file paths are dropped.
 *
 * Checks: `audit-log` fails when the log report is not ok; `backups` when any bag failed; `keys`
 * when there is no active primary version or one is older than `maxKeyAgeMs`.
 *
 * HIPAA: 164.308(a)(8) evaluation, 164.316(b)(1) documentation (and the evidence behind
 * 164.312(b) audit controls and 164.308(a)(7)(ii)(A) data backup).
 *
 * @hipaa 164.308(a)(8) supports
 * @hipaa 164.316(b)(1) supports
 * @nist CA-7 164.308(a)(8)
 * @evidence a signed evidence report: audit log verified through a sequence number, backups verified and their age, key versions and their ages, session and password policies in force
 * @appResponsibility Run it on a schedule and review the failures; the reports document an evaluation, so keep them six years from creation (164.316(b)(2)(i)).
 * @verifiedBy packages/controls/test/evidence.test.ts
 * @verifiedBy packages/cli/test/evidence.test.ts
 * @throws {EvidenceError} `ERR_EVIDENCE_INPUT` for an invalid date.
 * @example
 * ```ts
 * const report = buildEvidenceReport({ now: new Date(), auditLog: { report: await verifyLog(store), verifiedAt: new Date() } })
 * report.ok // true when every check passed
 * ```
 */
export function buildEvidenceReport(inputs: EvidenceInputs): EvidenceReport {
  const generatedAt = iso(inputs.now, 'now')
  const now = inputs.now.getTime()
  const failures: EvidenceCheck[] = []

  let auditLog: EvidenceReport['auditLog'] = null
  if (inputs.auditLog !== undefined) {
    const r = inputs.auditLog.report
    const errorSeqs = r.findings.filter((f) => f.severity === 'error').map((f) => f.seq)
    const through = r.ok ? r.records - 1 : Math.min(r.records, ...errorSeqs) - 1
    auditLog = {
      ok: r.ok,
      stream: r.stream,
      verifiedAt: iso(inputs.auditLog.verifiedAt, 'auditLog.verifiedAt'),
      records: r.records,
      verifiedThroughSeq: through >= 0 ? through : null,
      checkpoints: { total: r.checkpoints.total, verified: r.checkpoints.verified },
      anchoredThroughSeq: r.anchoredThrough,
      checkpointedThroughSeq: r.checkpointedThrough,
      findings: r.findings.map((f) => ({ seq: f.seq, code: f.code, severity: f.severity })),
    }
    if (!r.ok) failures.push('audit-log')
  }

  const backups: EvidenceReport['backups'] = (inputs.backups ?? []).map((b) => {
    const createdAt = b.attestation?.createdAt ?? null
    return {
      ok: b.status !== 'failed',
      status: b.status,
      exitCode: b.exitCode,
      verifiedAt: b.finishedAt,
      bagId: b.bag.bagId,
      backupSetId: b.bag.backupSetId,
      payloadFiles: b.bag.payloadFiles,
      payloadBytes: b.bag.payloadBytes,
      encrypted: b.bag.encrypted,
      filesVerified: b.coverage.filesVerified,
      signed: b.attestation?.verified === true,
      signingKid: b.attestation?.kid ?? null,
      attestationSeq: b.attestation?.seq ?? null,
      attestationSha256: b.attestation?.sha256 ?? null,
      createdAt,
      ageMs: ageOf(createdAt, now),
      findings: b.findings.map((f) => ({ code: f.code, severity: f.severity })),
    }
  })
  if (backups.some((b) => !b.ok)) failures.push('backups')

  let keys: EvidenceReport['keys'] = null
  if (inputs.keyring !== undefined) {
    const k = inputs.keyring
    const versions = [...k.keys]
      .sort((a, b) => a.version - b.version)
      .map((v) => {
        const createdAt = v.createdAt === undefined ? null : iso(new Date(v.createdAt), 'key createdAt')
        return {
          keyRef: v.keyRef,
          version: v.version,
          state: v.retired === true ? 'retired' : v.state,
          retired: v.retired === true,
          createdAt,
          ageMs: ageOf(createdAt, now),
          wraps: v.usage === undefined ? null : v.usage.wraps.toString(),
          wrapLimit: v.usage === undefined ? null : v.usage.limit.toString(),
        }
      })
    const primary = versions.find((v) => v.state === 'primary') ?? null
    const tooOld =
      inputs.maxKeyAgeMs !== undefined &&
      versions.some(
        (v) => !v.retired && v.state !== 'destroyed' && (v.ageMs ?? 0) > (inputs.maxKeyAgeMs ?? 0),
      )
    const ok = primary !== null && !tooOld
    keys = { ok, keyring: k.name, sealed: k.sealed, primary: primary?.keyRef ?? null, versions }
    if (!ok) failures.push('keys')
  }

  return {
    schemaVersion: 1,
    generatedAt,
    ok: failures.length === 0,
    failures,
    auditLog,
    backups,
    keys,
    sessionPolicy:
      inputs.sessionPolicy === undefined
        ? null
        : {
            defaults: { ...inputs.sessionPolicy.defaults },
            roles: Object.fromEntries(
              Object.entries(inputs.sessionPolicy.roles).map(([r, t]) => [r, { ...t }]),
            ),
            maxSessionsPerUser: inputs.sessionPolicy.maxSessionsPerUser,
            onSessionLimit: inputs.sessionPolicy.onSessionLimit,
          },
    passwordPolicy: inputs.passwordPolicy === undefined ? null : { ...inputs.passwordPolicy },
  }
}

/** The JWS `typ` header of a signed evidence report. */
export const EVIDENCE_JWS_TYPE = 'safeguards-evidence+jws'

async function importKey(jwk: JWK, wantPrivate: boolean): Promise<CryptoKey | Uint8Array> {
  if (jwk === null || typeof jwk !== 'object' || jwk.kty !== 'OKP' || jwk.crv !== 'Ed25519')
    throw new EvidenceError('ERR_EVIDENCE_KEY', 'expected an Ed25519 JWK (kty OKP, crv Ed25519)')
  if (wantPrivate && typeof jwk.d !== 'string')
    throw new EvidenceError('ERR_EVIDENCE_KEY', 'expected a private JWK (with d)')
  const { d: _d, ...pub } = jwk
  try {
    return await importJWK(wantPrivate ? jwk : pub, 'EdDSA')
  } catch (e) {
    throw new EvidenceError('ERR_EVIDENCE_KEY', 'the JWK cannot be imported', { cause: e })
  }
}

/**
 * Signs the report as a compact JWS (`alg` EdDSA, `typ` {@link EVIDENCE_JWS_TYPE}, `kid`) over
 * its canonical JSON (RFC 8785, core's `canonicalize`).
 *
 * HIPAA: 164.316(b)(1) documentation (the record is attributable and tamper-evident).
 *
 * @hipaa 164.316(b)(1) supports
 * @evidence a JWS over the canonical evidence report, with the signing key's kid
 * @appResponsibility Keep the signing key apart from the systems it reports on; publish its public JWK to auditors.
 * @verifiedBy packages/controls/test/evidence.test.ts
 * @throws {EvidenceError} `ERR_EVIDENCE_KEY` when the key is not a private Ed25519 JWK or the kid is empty.
 * @example
 * ```ts
 * const jws = await signEvidence(report, privateJwk, 'evidence-2026')
 * ```
 */
export async function signEvidence(report: EvidenceReport, privateJwk: JWK, kid?: string): Promise<string> {
  const keyId = kid ?? privateJwk?.kid
  if (typeof keyId !== 'string' || keyId === '' || keyId.length > 256)
    throw new EvidenceError('ERR_EVIDENCE_KEY', 'a kid (1-256 characters) is required')
  const key = await importKey(privateJwk, true)
  return new CompactSign(new TextEncoder().encode(canonicalize(report)))
    .setProtectedHeader({ alg: 'EdDSA', typ: EVIDENCE_JWS_TYPE, kid: keyId })
    .sign(key)
}

/** The verdict of {@link verifyEvidence}. */
export type EvidenceVerifyResult =
  | { valid: true; kid: string; report: EvidenceReport }
  | { valid: false; reason: 'malformed' | 'signature' | 'kid' | 'not-canonical' }

/**
 * Verifies a signed evidence report with the public JWK. A bad signature, a different `kid`
 * (when the JWK has one), or a payload that is not the canonical JSON is a `valid: false` verdict.
 *
 * HIPAA: 164.316(b)(1) documentation, 164.308(a)(8) evaluation.
 *
 * @hipaa 164.316(b)(1) supports
 * @evidence the auditor's independent check of a signed evidence report
 * @appResponsibility Obtain the public JWK through a channel you trust.
 * @verifiedBy packages/controls/test/evidence.test.ts
 * @throws {EvidenceError} `ERR_EVIDENCE_KEY` when the key is not an Ed25519 JWK.
 * @example
 * ```ts
 * const v = await verifyEvidence(jws, publicJwk)
 * if (v.valid) console.log(v.report.ok)
 * ```
 */
export async function verifyEvidence(jws: string, publicJwk: JWK): Promise<EvidenceVerifyResult> {
  const key = await importKey(publicJwk, false)
  if (
    typeof jws !== 'string' ||
    jws.length > 16 * 1024 * 1024 ||
    !/^[\w-]+\.[\w-]+\.[\w-]+$/.test(jws.trim())
  )
    return { valid: false, reason: 'malformed' }
  let payload: Uint8Array
  let kid: unknown
  try {
    const r = await compactVerify(jws.trim(), key, { algorithms: ['EdDSA'] })
    payload = r.payload
    kid = r.protectedHeader.kid
    if (r.protectedHeader.typ !== EVIDENCE_JWS_TYPE) return { valid: false, reason: 'malformed' }
  } catch (e) {
    const code = (e as { code?: unknown }).code
    return {
      valid: false,
      reason: code === 'ERR_JWS_SIGNATURE_VERIFICATION_FAILED' ? 'signature' : 'malformed',
    }
  }
  if (typeof kid !== 'string' || (typeof publicJwk.kid === 'string' && publicJwk.kid !== kid))
    return { valid: false, reason: 'kid' }
  const text = new TextDecoder().decode(payload)
  let report: unknown
  try {
    report = parseJson(text)
  } catch {
    return { valid: false, reason: 'malformed' }
  }
  if (canonicalize(report) !== text) return { valid: false, reason: 'not-canonical' }
  if ((report as { schemaVersion?: unknown } | null)?.schemaVersion !== 1)
    return { valid: false, reason: 'malformed' }
  return { valid: true, kid, report: report as EvidenceReport }
}

function human(ms: number | null): string {
  if (ms === null) return 'unknown'
  const units: [number, string][] = [
    [86_400_000, 'd'],
    [3_600_000, 'h'],
    [60_000, 'min'],
    [1000, 's'],
  ]
  for (const [size, unit] of units) if (ms >= size) return `${Math.floor(ms / size)} ${unit}`
  return `${ms} ms`
}

const cell = (v: unknown): string =>
  String(v ?? '-').replace(/[|\\`*_<>[\]\r\n]/g, (c) => (c === '\n' || c === '\r' ? ' ' : `\\${c}`))

/**
 * Renders the report as Markdown for a human reviewer: the verdict, then one section per check.
 *
 * HIPAA: 164.316(b)(1) documentation.
 *
 * @hipaa 164.316(b)(1) supports
 * @evidence a human-readable evidence report
 * @verifiedBy packages/controls/test/evidence.test.ts
 * @throws never.
 * @example
 * ```ts
 * writeFileSync('evidence.md', renderEvidenceMarkdown(report))
 * ```
 */
export function renderEvidenceMarkdown(report: EvidenceReport): string {
  const out: string[] = [
    '# Safeguards evidence report',
    '',
    `Generated ${report.generatedAt}. Result: **${report.ok ? 'PASS' : 'FAIL'}**${
      report.failures.length === 0 ? '' : ` (failed: ${report.failures.join(', ')})`
    }.`,
    '',
    '## Audit log (164.312(b), 164.312(c)(1))',
    '',
  ]
  const a = report.auditLog
  if (a === null) out.push('Not examined.')
  else {
    out.push(
      `- Stream \`${cell(a.stream)}\`: **${a.ok ? 'intact' : 'FAILED'}**, verified ${a.verifiedAt}`,
      `- ${a.records} records; verified through seq ${a.verifiedThroughSeq ?? 'none'}`,
      `- Checkpoints: ${a.checkpoints.verified}/${a.checkpoints.total} verified; checkpointed through seq ${
        a.checkpointedThroughSeq ?? 'none'
      }; anchored through seq ${a.anchoredThroughSeq ?? 'none'}`,
    )
    for (const f of a.findings) out.push(`- ${f.severity} \`${cell(f.code)}\` at seq ${f.seq}`)
  }
  out.push('', '## Backups (164.308(a)(7)(ii)(A), 164.310(d)(2)(iv))', '')
  if (report.backups.length === 0) out.push('Not examined.')
  else {
    out.push(
      '| bag id | set | status | files | bytes | encrypted | signed by | seq | created | age | verified |',
      '| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |',
    )
    for (const b of report.backups)
      out.push(
        `| ${cell(b.bagId)} | ${cell(b.backupSetId)} | ${b.ok ? b.status : `**${b.status}**`} | ${b.filesVerified}/${b.payloadFiles} | ${b.payloadBytes} | ${b.encrypted ? 'yes' : 'no'} | ${b.signed ? cell(b.signingKid) : 'not signed'} | ${cell(b.attestationSeq)} | ${cell(b.createdAt)} | ${human(b.ageMs)} | ${b.verifiedAt} |`,
      )
    for (const b of report.backups)
      for (const f of b.findings) out.push(`- ${cell(b.bagId)}: ${f.severity} \`${cell(f.code)}\``)
  }
  out.push('', '## Encryption keys (164.312(a)(2)(iv), 164.312(e)(2)(ii))', '')
  const k = report.keys
  if (k === null) out.push('Not examined.')
  else {
    out.push(
      `Keyring \`${cell(k.keyring)}\`${k.sealed ? ' (sealed)' : ''}: **${k.ok ? 'ok' : 'FAILED'}**, primary ${cell(k.primary ?? 'none')}.`,
      '',
      '| key | state | created | age | wraps |',
      '| --- | --- | --- | --- | --- |',
    )
    for (const v of k.versions)
      out.push(
        `| ${cell(v.keyRef)} | ${cell(v.state)} | ${cell(v.createdAt)} | ${human(v.ageMs)} | ${cell(v.wraps)} |`,
      )
  }
  out.push('', '## Session policy (164.312(a)(2)(iii) automatic logoff)', '')
  const s = report.sessionPolicy
  if (s === null) out.push('Not examined.')
  else {
    out.push(
      `- Default: idle ${human(s.defaults.idleTimeoutMs)}, absolute ${human(s.defaults.absoluteTimeoutMs)}`,
      ...Object.keys(s.roles)
        .sort()
        .map((r) => {
          const t = s.roles[r] as { idleTimeoutMs: number; absoluteTimeoutMs: number }
          return `- Role \`${cell(r)}\`: idle ${human(t.idleTimeoutMs)}, absolute ${human(t.absoluteTimeoutMs)}`
        }),
      `- At most ${s.maxSessionsPerUser} sessions per user, then ${cell(s.onSessionLimit)}`,
    )
  }
  out.push('', '## Password policy (164.308(a)(5)(ii)(D))', '')
  const p = report.passwordPolicy
  if (p === null) out.push('Not examined.')
  else
    out.push(
      `- ${cell(p.basis)}: ${p.minLength} to ${p.maxLength} characters (at most ${p.maxBytes} bytes)${p.mfa ? ', with a second factor' : ', password as the only factor'}`,
    )
  out.push('')
  return out.join('\n')
}
