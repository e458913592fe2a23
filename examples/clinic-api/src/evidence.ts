/**
 * The clinic's evidence step (issue 18 §2): after the service stops, the auditor records an
 * activity review in the audit log and runs `safeguards evidence` on the clinic's own artefacts
 * (the file audit log and its anchor, a signed backup, the keyring, the session policy the service
 * loads) against a baseline that names the roles with PHI access. Every check is judged: met,
 * partly met (for example the password and MFA policies, which are only declared by flags), or not
 * met with the value, the threshold and the fix; the command exits 1 when anything is not met.
 *
 * HIPAA: 164.308(a)(8) evaluation; 164.316(b)(1) documentation (the signed report).
 */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { PassThrough, Readable } from 'node:stream'
import { type CliIO, runCli } from '@safeguards/cli'
import type { SessionPolicyOptions } from '@safeguards/session'
import type { ClinicSecrets } from './secrets.js'
import { MIN } from './staff.js'

/** The session timeouts the clinic's service loads (automatic logoff, 164.312(a)(2)(iii)). */
export const CLINIC_SESSION_POLICY = {
  idleTimeoutMs: 15 * MIN,
  absoluteTimeoutMs: 12 * 60 * MIN,
  roles: { admin: { idleTimeoutMs: 5 * MIN, absoluteTimeoutMs: 4 * 60 * MIN } },
} as const satisfies SessionPolicyOptions

/** The roles whose permissions reach PHI (see `policy.ts`): every one of them is judged. */
export const CLINIC_PHI_ROLES: readonly string[] = ['front_desk', 'nurse', 'physician', 'billing']

/** What the evidence step needs from a stopped clinic. */
export interface ClinicArtefacts {
  /** The clinic's data directory (embedded mode: the keyring file is there). */
  readonly dataDir: string
  readonly paths: { readonly audit: string; readonly anchor: string; readonly backups: string }
  readonly secrets: ClinicSecrets
  /** The bag to judge, in `paths.backups`. */
  readonly bagId: string
}

/** The outcome of `safeguards evidence`: exit code, its output, and the report written. */
export interface EvidenceRun {
  readonly code: number
  readonly stdout: string
  readonly stderr: string
  /** `evidence.json` as written to the output directory. */
  readonly report: {
    ok: boolean
    failures: string[]
    verdicts: { check: string; status: string; measured: string; threshold: string; remediation: string }[]
  }
}

async function cli(
  argv: string[],
  cwd: string,
  env: Record<string, string>,
): Promise<Omit<EvidenceRun, 'report'>> {
  const collect = (): { stream: PassThrough; text: () => string } => {
    const chunks: string[] = []
    const stream = new PassThrough()
    stream.on('data', (c: Uint8Array) => chunks.push(new TextDecoder().decode(c)))
    return { stream, text: () => chunks.join('') }
  }
  const out = collect()
  const err = collect()
  const io: CliIO = { stdin: Readable.from(['']), stdout: out.stream, stderr: err.stream, env, cwd }
  const code = await runCli(argv, io)
  return { code, stdout: out.text(), stderr: err.text() }
}

/**
 * Records an activity review in the clinic's (stopped) audit log, then judges the artefacts with
 * `safeguards evidence`, writing `evidence.json`, `.md`, `.html` and `.jws` to `outDir`.
 * `sessionPolicy` replaces the policy the service loads (to show a failing one).
 */
export async function clinicEvidence(
  clinic: ClinicArtefacts,
  outDir: string,
  sessionPolicy: SessionPolicyOptions = CLINIC_SESSION_POLICY,
): Promise<EvidenceRun> {
  mkdirSync(outDir, { recursive: true })
  const file = (name: string, value: unknown): string => {
    writeFileSync(join(outDir, name), `${JSON.stringify(value, null, 2)}\n`)
    return name
  }
  const env = { CLINIC_KEYRING_SECRET: clinic.secrets.keyringSecret }
  const review = await cli(['audit', 'review', '--log', clinic.paths.audit, '--by', 'u-auditor'], outDir, env)
  if (review.code !== 0 && review.code !== 1) throw new Error(`audit review failed: ${review.stderr}`)
  const baseline = {
    version: 1,
    name: 'clinic-api',
    phiRoles: CLINIC_PHI_ROLES,
  }
  const run = await cli(
    [
      'evidence',
      ...['--log', clinic.paths.audit, '--anchor', clinic.paths.anchor],
      ...['--public-key', file('checkpoint.pub.jwk', clinic.secrets.checkpointKey.publicJwk)],
      ...['--bag', join(clinic.paths.backups, clinic.bagId)],
      ...['--bag-public-key', file('backup.pub.jwk', clinic.secrets.backupKey.publicJwk)],
      ...['--keyring', join(clinic.dataDir, 'keyring.json'), '--master-env', 'CLINIC_KEYRING_SECRET'],
      ...['--session-policy', file('session-policy.json', sessionPolicy)],
      // Every sign-in is password then TOTP. The clinic neither checks a blocklist nor rehashes: not stated.
      ...['--password-mfa', '--mfa-roles', 'all'],
      ...['--baseline', file('baseline.json', baseline)],
      ...['--out-dir', '.'],
    ],
    outDir,
    env,
  )
  return { ...run, report: JSON.parse(readFileSync(join(outDir, 'evidence.json'), 'utf8')) }
}
