/**
 * `safeguards audit report`: who accessed one patient's record (`--patient`), or one user's activity
 * (`--who`), a row per record, as a table, JSON, CSV or a FHIR Bundle; with `--prove`, every row
 * carries an inclusion proof against the newest signed checkpoint that `safeguards audit
 * check-proof` accepts. The run itself is recorded in the log (a DICOM 110112 Query event naming the
 * patient) before the report is printed: a report that cannot be recorded is not printed.
 *
 * HIPAA: 164.308(a)(1)(ii)(D) information system activity review, 164.312(b) audit controls.
 *
 * @module
 */
import {
  type AccessReport,
  type AccessRow,
  type AuditEvent,
  type AuditStore,
  accessReport,
  fhirBundle,
  queryLog,
  storedToFhir,
} from '@safeguards/audit-log'
import { optionalString, type ParsedValues, parseCommandArgs, requireString } from '../args.js'
import type { CliIO } from '../command.js'
import { ExitCode, UsageError } from '../errors.js'
import { optionSpecs } from '../internal/options.js'
import { writeJson, writeLine } from '../output.js'
import { openLogStore } from './audit-open-log.js'
import { LOG_OPTS, recordRun, runAgent } from './audit-shared.js'

type Format = 'text' | 'json' | 'csv' | 'fhir'

const COLUMNS = [
  'seq',
  'time',
  'recorded',
  'who',
  'role',
  'type',
  'action',
  'interaction',
  'outcome',
  'patient',
  'purpose_of_use',
  'emergency',
] as const

function timeOption(values: ParsedValues, name: 'from' | 'to'): string | undefined {
  const v = optionalString(values, name)
  if (v === undefined) return undefined
  const ms = Date.parse(/^\d{4}-\d{2}-\d{2}$/.test(v) ? `${v}T00:00:00Z` : v)
  if (!Number.isFinite(ms)) throw new UsageError(`--${name} expects an RFC 3339 time or a date (YYYY-MM-DD)`)
  return new Date(ms).toISOString()
}

function formatOf(values: ParsedValues): Format {
  const chosen = (['json', 'csv', 'fhir'] as const).filter((f) => values[f] === true)
  if (chosen.length > 1) throw new UsageError('give at most one of --json, --csv, --fhir')
  const format = chosen[0] ?? 'text'
  if (values.prove === true && format !== 'json')
    throw new UsageError('--prove needs --json: each row carries its proof bundle (JSON)')
  return format
}

/** A CSV field (RFC 4180 quoting; a leading = + - @ is defused, as OWASP advises for spreadsheets). */
function csvField(value: string): string {
  const v = /^[=+\-@\t\r]/.test(value) ? `'${value}` : value
  return /[",\r\n]/.test(v) ? `"${v.replaceAll('"', '""')}"` : v
}

function cells(row: AccessRow): string[] {
  return [
    String(row.seq),
    row.time,
    row.recorded,
    row.who ?? '',
    row.role.join(' '),
    row.type,
    row.action,
    row.interaction.join(' '),
    String(row.outcome),
    row.patient ?? '',
    row.purposeOfUse.join(' '),
    row.emergency ? 'yes' : 'no',
  ]
}

/** The event that records this report run: who ran it, about whom, how many rows. */
function reportEvent(by: string | undefined, report: AccessReport, who: string | undefined): AuditEvent {
  const event: AuditEvent = {
    type: '110112', // DICOM "Query" (DCM 110112), as FHIR AuditEvent.type
    subtype: ['access-report'],
    action: 'E',
    outcome: 0,
    agents: [runAgent(by)],
    source: { observer: 'safeguards-cli' },
    details: {
      report: 'access',
      rows: report.rows.length,
      size: report.size,
      proved: report.checkpoint !== undefined,
    },
  }
  if (report.query.patient !== undefined) event.patient = report.query.patient
  if (who !== undefined) event.entities = [{ what: who, type: '1', role: '6' }] // FHIR: a person, in the role of user
  return event
}

async function fhirRows(store: AuditStore, report: AccessReport, scan: boolean): Promise<unknown> {
  const { patient, who, from, to } = report.query
  const result = await queryLog(
    store,
    {
      ...(patient === undefined ? {} : { patient }),
      ...(who === undefined ? {} : { who }),
      ...(from === undefined ? {} : { from }),
      ...(to === undefined ? {} : { to }),
    },
    { scan, size: report.size },
  )
  const resources = []
  for await (const r of result) resources.push(storedToFhir(r))
  return fhirBundle(resources, new Date().toISOString())
}

function printText(io: CliIO, report: AccessReport, recordedAs: number): void {
  const subject =
    report.query.patient !== undefined ? `patient ${report.query.patient}` : `user ${report.query.who}`
  writeLine(
    io,
    `access report for ${subject} in ${report.stream}: ${report.rows.length} rows, complete through ${report.size} records (this run recorded as seq ${recordedAs})`,
  )
  writeLine(io, COLUMNS.join('\t'))
  for (const row of report.rows) writeLine(io, cells(row).join('\t'))
}

/**
 * `safeguards audit report --log LOG (--patient ID | --who ID) [--from T] [--to T]
 * [--json|--csv|--fhir] [--prove] [--scan] [--by ID]`. Exit 0 printed, 1 a damaged record or
 * records that do not match the checkpoint, 2 usage (also `--prove` on a log without a checkpoint).
 *
 * @throws {UsageError} for bad options.
 */
export async function report(argv: string[], io: CliIO): Promise<number> {
  const { values } = parseCommandArgs(argv, {
    ...LOG_OPTS,
    ...optionSpecs({
      strings: ['patient', 'who', 'from', 'to', 'by'],
      flags: ['json', 'csv', 'fhir', 'prove', 'scan'],
    }),
  })
  const spec = requireString(values, 'log')
  const patient = optionalString(values, 'patient')
  const who = optionalString(values, 'who')
  if (patient === undefined && who === undefined) throw new UsageError('give --patient ID or --who ID')
  const from = timeOption(values, 'from')
  const to = timeOption(values, 'to')
  const format = formatOf(values)
  const by = optionalString(values, 'by')
  const scan = values.scan === true
  const store = await openLogStore(spec, io, { readOnly: true })
  let built: AccessReport
  let fhir: unknown
  try {
    built = await accessReport(
      store,
      {
        ...(patient === undefined ? {} : { patient }),
        ...(who === undefined ? {} : { who }),
        ...(from === undefined ? {} : { from }),
        ...(to === undefined ? {} : { to }),
      },
      { prove: values.prove === true, scan },
    ).catch((e: unknown) => {
      if (e instanceof RangeError || e instanceof TypeError) throw new UsageError(e.message, { cause: e })
      throw e
    })
    if (format === 'fhir') fhir = await fhirRows(store, built, scan)
  } finally {
    await store.close()
  }
  const recordedAs = await recordRun(spec, io, reportEvent(by, built, who))
  if (format === 'json') writeJson(io, { ...built, recordedAs })
  else if (format === 'fhir') writeJson(io, fhir)
  else if (format === 'csv') {
    writeLine(io, COLUMNS.join(','))
    for (const row of built.rows) writeLine(io, cells(row).map(csvField).join(','))
  } else printText(io, built, recordedAs)
  return ExitCode.OK
}
