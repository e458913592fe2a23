/**
 * The judges of records: the audit log, the activity review, backups and transit checks (see
 * `evidence-judge.ts`).
 */
import type { JudgedSections, Verdict } from '../evidence-judge.js'
import { human } from './human.js'
import { dur, type T } from './judge-format.js'

export function auditLog(a: JudgedSections['auditLog'], t: T): Verdict[] {
  if (a === null) return []
  const hipaa = ['164.312(b)']
  const firstError = a.findings.find((f) => f.severity === 'error')
  const out: Verdict[] = [
    {
      check: 'auditLog.integrity',
      area: 'audit-log',
      hipaa: ['164.312(b)', '164.312(c)(1)'],
      status: a.ok ? 'met' : 'not met',
      basis: 'measured',
      measured: a.ok
        ? `${a.records} records verified through seq ${a.verifiedThroughSeq ?? 'none'}`
        : `verification failed at seq ${firstError?.seq ?? '?'} (${firstError?.code ?? 'error'})`,
      threshold: 'the whole chain verifies',
      source: 'HIPAA 164.312(b), 164.312(c)(1)',
      remediation: a.ok
        ? ''
        : 'Investigate the finding as a security incident (164.308(a)(6)) and restore the log from a verified copy.',
    },
  ]
  if (t('auditLog.signatures').value === true)
    out.push({
      check: 'auditLog.signatures',
      area: 'audit-log',
      hipaa,
      status: a.signaturesChecked && a.checkpoints.verified > 0 ? 'met' : 'partly met',
      basis: 'measured',
      measured: a.signaturesChecked
        ? `${a.checkpoints.verified} of ${a.checkpoints.total} checkpoints verified with trusted keys`
        : 'checkpoint signatures not checked (no public key given)',
      threshold: 'signed checkpoints verified with a trusted public key',
      source: t('auditLog.signatures').source,
      remediation:
        a.signaturesChecked && a.checkpoints.verified > 0
          ? ''
          : a.signaturesChecked
            ? 'Write signed checkpoints (checkpointEvery).'
            : 'Verify with the checkpoint public key (--public-key).',
    })
  if (t('auditLog.anchor').value === true) {
    const lagMax = t('auditLog.anchorLag').value as number
    const lag = a.anchorLagRecords
    out.push({
      check: 'auditLog.anchor',
      area: 'audit-log',
      hipaa,
      status: lag === null ? 'partly met' : lag > lagMax ? 'partly met' : 'met',
      basis: 'measured',
      measured:
        lag === null
          ? 'no anchored checkpoint verified'
          : `anchored through seq ${a.anchoredThroughSeq}; ${lag} records not yet anchored`,
      threshold: `anchored; at most ${lagMax} records behind the anchor`,
      source: `${t('auditLog.anchor').source}; lag: ${t('auditLog.anchorLag').source}`,
      remediation:
        lag === null
          ? 'Anchor checkpoints outside the log host (WORM) and verify against the anchor (--anchor).'
          : lag > lagMax
            ? 'Checkpoint and anchor more often (checkpointEvery).'
            : '',
    })
  }
  return out
}

export function review(r: JudgedSections['activityReview'], t: T): Verdict[] {
  if (r === null) return []
  const hipaa = ['164.308(a)(1)(ii)(D)']
  const period = t('activityReview.period').value as number
  const late = r.ran && r.ageMs > period
  const out: Verdict[] = [
    {
      check: 'activityReview.period',
      area: 'activity-review',
      hipaa,
      status: !r.ran || late ? 'not met' : 'met',
      basis: 'measured',
      measured: r.ran
        ? `last run ${r.ranAt} (${human(r.ageMs)} ago), records ${r.from} to ${r.through - 1}`
        : 'no activity review recorded in the audit log',
      threshold: `a review within the last ${dur(period)}`,
      source: t('activityReview.period').source,
      remediation:
        !r.ran || late
          ? 'Run `safeguards audit review` on a schedule (at least once per period) and record it in the log.'
          : '',
    },
  ]
  if (r.totalOpenFindings !== undefined) {
    const max = t('activityReview.openFindings').value as number
    out.push({
      check: 'activityReview.openFindings',
      area: 'activity-review',
      hipaa: ['164.308(a)(1)(ii)(D)', '164.308(a)(6)(ii)'],
      status: r.totalOpenFindings > max ? 'partly met' : 'met',
      basis: 'measured',
      measured: `${r.totalOpenFindings} finding${r.totalOpenFindings === 1 ? '' : 's'} open`,
      threshold: `≤ ${max} open findings`,
      source: t('activityReview.openFindings').source,
      remediation:
        r.totalOpenFindings > max
          ? 'Triage the open findings (`safeguards audit findings`): acknowledge, resolve or suppress each with a reason.'
          : '',
    })
  }
  return out
}

export function backups(bags: JudgedSections['backups'], t: T): Verdict[] {
  if (bags.length === 0) return []
  return [...integrityVerdicts(bags), rpoVerdict(bags, t), restoreTestVerdict(bags, t)]
}

/** `backup.integrity[bag]`: every file verified and the attestation signed, per bag. */
function integrityVerdicts(bags: JudgedSections['backups']): Verdict[] {
  return bags.map((b) => {
    const bad = b.status !== 'ok' || !b.signed
    return {
      check: `backup.integrity[${b.bagId ?? '?'}]`,
      area: 'backups' as const,
      hipaa: ['164.308(a)(7)(ii)(A)', '164.310(d)(2)(iv)'],
      status: bad ? ('not met' as const) : ('met' as const),
      basis: 'measured' as const,
      measured: `${b.status}, ${b.filesVerified}/${b.payloadFiles} files, ${b.signed ? `signed by ${b.signingKid}` : 'not signed'}${b.attestationSha256 === null ? '' : `, attestation sha256 ${b.attestationSha256}`}`,
      threshold: 'every file verified, attestation signed by a trusted key',
      source: 'HIPAA 164.308(a)(7)(ii)(A), 164.310(d)(2)(iv); NIST SP 800-53 CP-9(1)',
      remediation:
        b.status !== 'ok'
          ? 'Take a new backup and find why this one is incomplete or altered.'
          : bad
            ? 'Sign backups (backup create --sign-key) and verify with the public key.'
            : '',
    }
  })
}

/** `backup.rpo`: the newest verified backup within the recovery point objective. */
function rpoVerdict(bags: JudgedSections['backups'], t: T): Verdict {
  const rpo = t('backup.rpo').value as number
  const good = bags.filter((b) => b.status === 'ok')
  const newest = good.reduce<number | null>(
    (m, b) => (b.ageMs === null ? m : m === null ? b.ageMs : Math.min(m, b.ageMs)),
    null,
  )
  return {
    check: 'backup.rpo',
    area: 'backups',
    hipaa: ['164.308(a)(7)(ii)(A)'],
    status:
      newest === null ? (good.length === 0 ? 'not met' : 'partly met') : newest > rpo ? 'not met' : 'met',
    basis: 'measured',
    measured:
      newest === null
        ? good.length === 0
          ? 'no verified backup'
          : 'age unknown (no signed creation time)'
        : `newest verified backup ${dur(newest)} old`,
    threshold: `≤ ${dur(rpo)} (RPO)`,
    source: t('backup.rpo').source,
    remediation:
      newest === null || newest > rpo ? 'Take a signed backup at least once per RPO and verify it.' : '',
  }
}

/** `backup.restoreTest`: a passing restore test within the period, and none failed. */
function restoreTestVerdict(bags: JudgedSections['backups'], t: T): Verdict {
  const period = t('backup.restoreTestPeriod').value as number
  const tested = bags.filter((b) => b.restoreTests.length > 0)
  const failed = tested.filter((b) => b.restoreTests.some((r) => !r.ok))
  const lastOk = tested
    .filter((b) => b.restoreTests.every((r) => r.ok))
    .map((b) => b.restoreTestAgeMs)
    .filter((a): a is number => a !== null)
    .sort((a, c) => a - c)[0]
  return {
    check: 'backup.restoreTest',
    area: 'backups',
    hipaa: ['164.308(a)(7)(ii)(D)'],
    status:
      failed.length > 0
        ? 'not met'
        : lastOk === undefined
          ? 'partly met'
          : lastOk > period
            ? 'not met'
            : 'met',
    basis: 'measured',
    measured:
      failed.length > 0
        ? `restore test failed on ${failed.map((b) => b.bagId).join(', ')}`
        : lastOk === undefined
          ? 'bags verified; no restore test recorded'
          : `last restore test ${human(lastOk)} ago`,
    threshold: `a passing restore test within ${dur(period)}`,
    source: t('backup.restoreTestPeriod').source,
    remediation:
      failed.length > 0 || lastOk === undefined || lastOk > period
        ? 'Run a restore test on a recent bag (verifyBag restoreTests) and record it.'
        : '',
  }
}

export function transit(rows: JudgedSections['transit'], t: T): Verdict[] {
  if (rows === null) return []
  const min = t('transit.minTls').value as string
  return rows.map((r) => {
    const weak = (r.acceptedProtocols ?? []).filter((p) => tlsRank(p) < tlsRank(min))
    const status: Verdict['status'] =
      r.verdict === 'fail' || weak.length > 0 ? 'not met' : r.verdict === 'warn' ? 'partly met' : 'met'
    return {
      check: `transit[${r.endpoint}]`,
      area: 'transit' as const,
      hipaa: ['164.312(e)(1)', '164.312(e)(2)(i)', '164.312(e)(2)(ii)'],
      status,
      basis: 'measured' as const,
      measured: `${r.verdict}${r.acceptedProtocols === undefined ? '' : `; accepts ${r.acceptedProtocols.join(', ')}`}${r.reasons.length === 0 ? '' : `; ${r.reasons.join('; ')}`}`,
      threshold: `${min} or newer, AEAD suites with forward secrecy, a trusted unexpired certificate`,
      source: t('transit.minTls').source,
      remediation:
        status === 'met'
          ? ''
          : weak.length > 0
            ? `Disable ${weak.join(', ')} (tlsServerOptions()).`
            : 'Fix what the transit check reports (safeguards transit check).',
    }
  })
}

function tlsRank(p: string): number {
  const m = /(\d)\.(\d)$/.exec(p)
  return m === null ? 0 : Number(m[1]) * 10 + Number(m[2])
}
