/**
 * `safeguards evidence`: gathers the auditor's evidence report (`@safeguards/controls`): the audit
 * log verified through which record and when, backups verified and their age, key versions and
 * their ages, the session and password policies in force. Writes it as JSON, as a JWS signed with
 * Ed25519 (`--sign-key`), and as Markdown.
 *
 * HIPAA: 164.308(a)(8) evaluation, 164.316(b)(1) documentation.
 *
 * @module
 */
import { mkdir, readFile } from 'node:fs/promises'
import { resolve } from 'node:path'
import {
  type AuditStore,
  createKeyring,
  directoryAnchor,
  type Keyring,
  type KeyringEntry,
  queryLog,
  verifyLog,
} from '@safeguards/audit-log'
import { commandRestoreTest, importVerificationKeys, type VerifyOptions, verifyBag } from '@safeguards/backup'
import {
  type ActivityReviewInput,
  type Baseline,
  buildEvidenceReport,
  type EvidenceInputs,
  type EvidenceReport,
  parseBaseline,
  renderEvidenceHtml,
  renderEvidenceMarkdown,
  runTransitChecks,
  signEvidence,
  type TransitCheckResult,
  type VerifiedCheckpointInput,
} from '@safeguards/controls'
import { IoError, isSafeguardsError, utf8Encode } from '@safeguards/core'
import { writeFileAtomic } from '@safeguards/core/node'
import { isOpen } from '@safeguards/monitor'
import { DEFAULT_MAX_PASSWORD_BYTES } from '@safeguards/password'
import { parsePolicy, type SessionPolicyOptions } from '@safeguards/session'
import { checkTls } from '@safeguards/transport'
import { optionalString, type ParsedValues, parseCommandArgs, parseDuration } from '../args.js'
import type { CliIO, Command } from '../command.js'
import { ExitCode, UsageError } from '../errors.js'
import { MAX_JSON_OPTION_BYTES, readJsonOption } from '../internal/files.js'
import { integerOption, optionSpecs } from '../internal/options.js'
import { safeText, writeJson } from '../output.js'
import { openFindings } from './audit-findings.js'
import { openLogStore } from './audit-open-log.js'
import { REVIEW_AGENT } from './audit-shared.js'
import { keyringHelp, keyringOptions, mapEnvelopeError, openKeyring } from './envelope-shared.js'

const USAGE = `Usage: safeguards evidence [--log LOG [--anchor DIR] [--public-key JWK]... [--findings STORE]]
                           [--bag BAG]... [--bag-public-key JWK] [--max-backup-age DURATION] [--restore-test CMD]
                           [--keyring PATH [--master-env VAR|--passphrase-env VAR]] [--max-key-age DURATION]
                           [--session-policy FILE] [--password-mfa] [--password-min-length N]
                           [--password-blocklist] [--password-rehash] [--mfa-roles all|ROLE,...]
                           [--transit HOST:PORT]... [--baseline FILE] [--sign-key JWK] [--out-dir DIR]
                           [--json|--html]

Gathers the evidence and judges it against a baseline (--baseline FILE, JSON or YAML: thresholds
that tighten or loosen the defaults, each with its reason, and the roles with PHI access; default:
NIST SP 800-63B rev 4, NIST SP 800-52r2, NIST SP 800-57, HIPAA and OWASP values). Each check is met,
partly met or not met, with the measured value, the threshold, its source and the fix; each HIPAA
specification gets the worst status of its checks, or app team when nothing was measured.

Verifies the audit log (LOG is a log directory or a postgres://…?stream=NAME URL; --public-key
holds trusted checkpoint keys, and the newest verified checkpoint's size and root are recorded;
--anchor the anchor directory), each --bag (signatures checked with --bag-public-key; a partial or
unsigned bag is not met; --max-backup-age sets the RPO; --restore-test runs CMD with /bin/sh in the
bag), lists the keyring's key versions (--max-key-age sets the rotation period), and judges the
session policy (--session-policy FILE; without it the library defaults, labelled declared), the
password policy (15 characters, 8 with --password-mfa, or --password-min-length; --password-blocklist
and --password-rehash state the rest) and --mfa-roles (roles that require MFA): values given by
flags are declared, never met on their own. The log's newest activity review is judged against its
period; --findings STORE (see safeguards audit findings) adds the findings still open, by detector.
Each --transit HOST:PORT is checked as safeguards transit check does (TLS versions, suites,
certificate; only that address is contacted); an endpoint that fails or cannot be reached is not met.

--out-dir writes evidence.json, evidence.md, evidence.html (one offline page with a chart) and, with
--sign-key (a private Ed25519 JWK with "kid"), evidence.jws (EdDSA over the canonical JSON). Prints
the Markdown, the JSON with --json, the HTML with --html; each check not met is named on stderr.
The report holds codes, counts, sequence numbers, timestamps and key references only.
${keyringHelp}

Exit codes: 0 nothing is not met, 1 a check is not met (the report and stderr say which, with the
value, the threshold and the fix), 2 usage or malformed input (a baseline error names its JSON
pointer), 3 a sealed keyring's secret is missing or wrong, 74 a file, log or store cannot be read or
written (names the path), 75 the log store or keyring lock is unavailable (retry).`

function usageOf(flag: string, e: unknown): never {
  if (isSafeguardsError(e) && !(e instanceof UsageError))
    throw new UsageError(`--${flag}: ${e.message}`, { cause: e })
  throw e
}

async function auditSection(
  io: CliIO,
  values: ParsedValues,
): Promise<(NonNullable<EvidenceInputs['auditLog']> & { review: ActivityReviewInput | null }) | undefined> {
  const spec = optionalString(values, 'log')
  if (spec === undefined) return undefined
  const entries: KeyringEntry[] = []
  for (const f of (values['public-key'] as string[] | undefined) ?? []) {
    const v = (await readJsonOption(io, f, 'public-key')) as { keys?: unknown }
    for (const jwk of Array.isArray(v?.keys) ? v.keys : [v]) {
      const { d: _d, ...pub } = jwk as Record<string, unknown>
      entries.push({ publicJwk: pub })
    }
  }
  const keyring =
    entries.length === 0 ? undefined : await createKeyring(entries).catch((e) => usageOf('public-key', e))
  const anchorDir = optionalString(values, 'anchor')
  const store = await openLogStore(spec, io, { readOnly: true })
  try {
    const report = await verifyLog(store, {
      ...(keyring === undefined ? {} : { keyring }),
      ...(anchorDir === undefined ? {} : { anchor: directoryAnchor(resolve(io.cwd, anchorDir)) }),
    })
    const checkpoint = keyring === undefined ? undefined : await verifiedCheckpoint(store, keyring, report)
    return {
      report,
      verifiedAt: new Date(),
      review: await newestReview(store),
      ...(checkpoint === undefined ? {} : { checkpoint }),
    }
  } finally {
    await store.close()
  }
}

/**
 * The newest stored checkpoint whose root the verification matched, verified again with the trusted
 * keys: the log size and root the report is tied to.
 */
async function verifiedCheckpoint(
  store: AuditStore,
  keyring: Keyring,
  report: { checkpointedThrough: number | null },
): Promise<VerifiedCheckpointInput | undefined> {
  if (report.checkpointedThrough === null) return undefined
  const size = report.checkpointedThrough + 1
  const stored = (await store.readCheckpoints()).filter((c) => c.size === size).at(-1)
  if (stored === undefined) return undefined
  try {
    const { body, kid } = await keyring.verify(stored.jws)
    return { size: body.size, root: body.root, timestamp: body.timestamp, kid }
  } catch {
    return undefined // the verification already reported it
  }
}

/** The newest review run in the log (found by its agent through the index), or null. */
async function newestReview(store: AuditStore): Promise<ActivityReviewInput | null> {
  let newest: ActivityReviewInput | null = null
  for await (const { seq, record } of await queryLog(store, { who: REVIEW_AGENT, type: '110112' })) {
    const d = record.event.details ?? {}
    if (!record.event.subtype?.includes('activity-review')) continue
    const findings: Record<string, number> = {}
    for (const [k, v] of Object.entries(d))
      if (typeof v === 'number' && !REVIEW_FIELDS.has(k)) findings[k] = v
    const num = (k: string): number => (typeof d[k] === 'number' ? (d[k] as number) : 0)
    newest = {
      ranAt: new Date(record.recorded),
      seq,
      from: num('from'),
      through: num('through'),
      logSize: num('size'),
      findings,
    }
  }
  return newest
}

/** The findings still open in the store named by `--findings`, by detector. */
async function openFindingsSection(
  io: CliIO,
  values: ParsedValues,
): Promise<Record<string, number> | undefined> {
  const spec = optionalString(values, 'findings')
  if (spec === undefined) return undefined
  const { store, close } = await openFindings(spec, io, { create: false })
  try {
    const now = Date.now()
    const counts: Record<string, number> = {}
    for (const s of await store.list()) if (isOpen(s, now)) counts[s.detector] = (counts[s.detector] ?? 0) + 1
    return counts
  } finally {
    await close()
  }
}

const REVIEW_FIELDS = new Set(['from', 'through', 'size', 'findings', 'damaged', 'unknown'])

async function backupSection(io: CliIO, values: ParsedValues): Promise<EvidenceInputs['backups']> {
  const bags = (values.bag as string[] | undefined) ?? []
  if (bags.length === 0) return undefined
  const options: VerifyOptions = {}
  const pub = optionalString(values, 'bag-public-key')
  if (pub !== undefined) {
    options.publicKeys = await importVerificationKeys(
      (await readJsonOption(io, pub, 'bag-public-key')) as Record<string, unknown>,
    ).catch((e) => usageOf('bag-public-key', e))
    options.requireSignature = true
  }
  const maxAge = optionalString(values, 'max-backup-age')
  if (maxAge !== undefined) options.maxAgeMs = parseDuration(maxAge, 'max-backup-age')
  const restore = optionalString(values, 'restore-test')
  if (restore !== undefined)
    options.restoreTests = [commandRestoreTest('restore-test', ['/bin/sh', '-c', restore])]
  const reports = []
  for (const bag of bags) reports.push((await verifyBag(resolve(io.cwd, bag), options)).report)
  return reports
}

async function keyringSection(io: CliIO, values: ParsedValues): Promise<EvidenceInputs['keyring']> {
  if (values.keyring === undefined) return undefined
  try {
    const kr = await openKeyring(values, io)
    return { name: kr.name, sealed: kr.sealed, keys: await kr.list() }
  } catch (e) {
    mapEnvelopeError(e)
  }
}

async function sessionSection(
  io: CliIO,
  values: ParsedValues,
): Promise<NonNullable<EvidenceInputs['sessionPolicy']>> {
  const file = optionalString(values, 'session-policy')
  const options =
    file === undefined ? {} : ((await readJsonOption(io, file, 'session-policy')) as SessionPolicyOptions)
  try {
    return { ...parsePolicy(options), ...(file === undefined ? { declared: true } : {}) }
  } catch (e) {
    usageOf('session-policy', e)
  }
}

function passwordSection(values: ParsedValues): NonNullable<EvidenceInputs['passwordPolicy']> {
  const mfa = values['password-mfa'] === true
  const min = integerOption(values, 'password-min-length', {
    min: 8,
    max: 999,
    expects: 'an integer of at least 8',
  })
  return {
    minLength: min ?? (mfa ? 8 : 15),
    maxLength: 128,
    maxBytes: DEFAULT_MAX_PASSWORD_BYTES,
    mfa,
    basis: 'NIST SP 800-63B rev 4',
    ...(values['password-blocklist'] === true ? { blocklist: true } : {}),
    ...(values['password-rehash'] === true ? { rehash: true } : {}),
    declared: true,
  }
}

/** `--mfa-roles all` or `ROLE,ROLE`: the roles declared to require a second factor. */
function mfaSection(values: ParsedValues): EvidenceInputs['mfa'] {
  const spec = optionalString(values, 'mfa-roles')
  if (spec === undefined) return undefined
  if (spec === 'all') return { requiredRoles: '*', declared: true }
  const roles = spec.split(',').map((r) => r.trim())
  if (roles.some((r) => r === '' || r.length > 128))
    throw new UsageError('--mfa-roles expects all or ROLE,ROLE')
  return { requiredRoles: roles, declared: true }
}

async function baselineSection(io: CliIO, values: ParsedValues): Promise<Baseline | undefined> {
  const file = optionalString(values, 'baseline')
  if (file === undefined) return undefined
  const path = resolve(io.cwd, file)
  let text: string
  try {
    text = await readFile(path, 'utf8')
  } catch (e) {
    throw new IoError('read --baseline', path, { cause: e })
  }
  if (text.length > MAX_JSON_OPTION_BYTES) throw new UsageError('--baseline is larger than 1 MiB')
  try {
    return parseBaseline(text)
  } catch (e) {
    usageOf('baseline', e)
  }
}

/** One line per check not met: the specification, the check, the value, the threshold and the fix. */
function notMetLines(report: EvidenceReport): string {
  return report.verdicts
    .filter((v) => v.status === 'not met')
    .map(
      (v) =>
        `not met: ${v.hipaa.join(', ')} ${v.check}: ${v.measured}; threshold ${v.threshold} (${v.source}); fix: ${v.remediation}\n`,
    )
    .join('')
}

/**
 * One endpoint's TLS check with `@safeguards/transport` (only the address given, as
 * `safeguards transit check` does), reduced to what the evidence records: the verdict, the
 * versions accepted, and the codes of the findings that warn or fail.
 */
async function transitCheck(
  host: string,
  port: number,
  options: { servername?: string },
): Promise<TransitCheckResult> {
  const r = await checkTls(
    host,
    port,
    options.servername === undefined ? {} : { servername: options.servername },
  )
  return {
    verdict: r.verdict,
    acceptedProtocols: Object.entries(r.protocols)
      .filter(([, status]) => status === 'accepted')
      .map(([version]) => version),
    reasons: r.findings.filter((f) => f.severity !== 'info').map((f) => f.code),
  }
}

/** The sources of evidence (audit log, backups, keyring), the policies in force, and the output. */
const OPTIONS = {
  ...optionSpecs({ strings: ['log', 'anchor', 'findings'], repeated: ['public-key', 'bag', 'transit'] }),
  ...optionSpecs({ strings: ['bag-public-key', 'max-backup-age', 'restore-test', 'max-key-age'] }),
  ...keyringOptions,
  ...optionSpecs({ strings: ['session-policy', 'password-min-length'], flags: ['password-mfa'] }),
  ...optionSpecs({ strings: ['mfa-roles', 'baseline'], flags: ['password-blocklist', 'password-rehash'] }),
  ...optionSpecs({ strings: ['sign-key', 'out-dir'], flags: ['json', 'html'] }),
}

async function run(argv: string[], io: CliIO): Promise<number> {
  const { values } = parseCommandArgs(argv, OPTIONS)
  const { signPath, outDir } = checkUsage(values)
  // Read the signing key and the policies first: a usage error must not come after minutes of verifying.
  const signKey =
    signPath === undefined
      ? undefined
      : ((await readJsonOption(io, signPath, 'sign-key')) as Record<string, unknown>)
  const inputs = await policyInputs(io, values)
  await gatherEvidence(io, values, inputs)

  const report = buildEvidenceReport(inputs)
  const markdown = renderEvidenceMarkdown(report)
  const jws =
    signKey === undefined
      ? undefined
      : await signEvidence(report, signKey).catch((e) => usageOf('sign-key', e))
  if (outDir !== undefined) await writeOutDir(io, outDir, report, markdown, jws)
  if (values.json === true) writeJson(io, report)
  else if (values.html === true) io.stdout.write(renderEvidenceHtml(report))
  else io.stdout.write(safeText(markdown, { multiline: true }))
  if (!report.ok)
    io.stderr.write(
      safeText(`safeguards evidence: failed checks: ${report.failures.join(', ')}\n${notMetLines(report)}`, {
        multiline: true,
      }),
    )
  return report.ok ? ExitCode.OK : ExitCode.CHECK_FAILED
}

/** The usage rules: at least one source, each option with the one it needs, one output format. */
function checkUsage(values: ParsedValues): { signPath: string | undefined; outDir: string | undefined } {
  if (
    values.log === undefined &&
    values.bag === undefined &&
    values.keyring === undefined &&
    values.transit === undefined
  )
    throw new UsageError('give at least one of --log, --bag, --keyring or --transit')
  const needs: [string, string][] = [
    ['anchor', 'log'],
    ['public-key', 'log'],
    ['findings', 'log'],
    ['bag-public-key', 'bag'],
    ['max-backup-age', 'bag'],
    ['restore-test', 'bag'],
    ['max-key-age', 'keyring'],
  ]
  for (const [flag, needed] of needs)
    if (values[flag] !== undefined && values[needed] === undefined)
      throw new UsageError(`--${flag} needs --${needed}`)
  const signPath = optionalString(values, 'sign-key')
  const outDir = optionalString(values, 'out-dir')
  if (signPath !== undefined && outDir === undefined) throw new UsageError('--sign-key needs --out-dir')
  if (values.json === true && values.html === true) throw new UsageError('give --json or --html, not both')
  return { signPath, outDir }
}

/** The policies in force (session, password, MFA, baseline, key age). */
async function policyInputs(io: CliIO, values: ParsedValues): Promise<EvidenceInputs> {
  const maxKeyAge = optionalString(values, 'max-key-age')
  const sessionPolicy = await sessionSection(io, values)
  const passwordPolicy = passwordSection(values)
  const mfa = mfaSection(values)
  const baseline = await baselineSection(io, values)
  return {
    sessionPolicy,
    passwordPolicy,
    ...(mfa === undefined ? {} : { mfa }),
    ...(baseline === undefined ? {} : { baseline }),
    ...(maxKeyAge === undefined ? {} : { maxKeyAgeMs: parseDuration(maxKeyAge, 'max-key-age') }),
  }
}

/** Verifies the sources given (keyring, audit log and its findings, backups, endpoints) into `inputs`. */
async function gatherEvidence(io: CliIO, values: ParsedValues, inputs: EvidenceInputs): Promise<void> {
  const keyring = await keyringSection(io, values)
  if (keyring !== undefined) inputs.keyring = keyring
  const audit = await auditSection(io, values)
  if (audit !== undefined) {
    inputs.auditLog = {
      report: audit.report,
      verifiedAt: audit.verifiedAt,
      ...(audit.checkpoint === undefined ? {} : { checkpoint: audit.checkpoint }),
    }
    inputs.activityReview = audit.review
    const open = await openFindingsSection(io, values)
    if (open !== undefined) inputs.openFindings = open
  }
  const backups = await backupSection(io, values)
  if (backups !== undefined) inputs.backups = backups
  const endpoints = values.transit as string[] | undefined
  if (endpoints !== undefined) {
    try {
      inputs.transit = await runTransitChecks(endpoints, transitCheck)
    } catch (e) {
      throw new UsageError(`--transit: ${(e as Error).message}`)
    }
  }
}

/** Writes the report (JSON, Markdown, HTML, and the signature when signed) into `--out-dir`. */
async function writeOutDir(
  io: CliIO,
  outDir: string,
  report: EvidenceReport,
  markdown: string,
  jws: string | undefined,
): Promise<void> {
  const dir = resolve(io.cwd, outDir)
  try {
    await mkdir(dir, { recursive: true })
  } catch (e) {
    throw new IoError('create --out-dir', dir, { cause: e })
  }
  // Durable and atomic: a reader (or a crash) never sees half a report.
  const write = (name: string, text: string): Promise<void> =>
    writeFileAtomic(resolve(dir, name), utf8Encode(text), { mode: 0o644 })
  await write('evidence.json', `${JSON.stringify(report, null, 2)}\n`)
  await write('evidence.md', markdown)
  await write('evidence.html', renderEvidenceHtml(report))
  if (jws !== undefined) await write('evidence.jws', `${jws}\n`)
}

/**
 * The `safeguards evidence` command: exit 0 when nothing is not met, 1 when a check is not met (the
 * report is still written; stderr names each such check with its value, threshold and fix), 2 usage or malformed input, 3 a sealed
 * keyring's secret unavailable, 74 I/O error, 75 a store or lock unavailable.
 *
 * HIPAA: 164.308(a)(8) evaluation, 164.316(b)(1) documentation.
 *
 * @example
 * ```sh
 * safeguards evidence --log ./audit --anchor /mnt/worm --public-key log.jwk --bag /backups/latest \
 *   --bag-public-key backup.jwk --keyring keys.json --sign-key evidence.jwk --out-dir ./evidence
 * ```
 */
export const evidenceCommand: Command = {
  name: 'evidence',
  summary: 'judge the evidence against a baseline: signed report, per HIPAA specification, with fixes',
  usage: USAGE,
  run: ({ argv, io }) => run(argv, io),
}
