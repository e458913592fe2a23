/**
 * `safeguards audit`: append to, verify, checkpoint, prove and export a tamper-evident audit log
 * (`@safeguards/audit-log`).
 *
 * HIPAA: 164.312(b) audit controls (including the trail's own integrity) and 164.308(a)(1)(ii)(D)
 * information system activity review.
 *
 * @module
 */
import { statSync } from 'node:fs'
import { resolve } from 'node:path'
import { createInterface } from 'node:readline'
import {
  type AppendResult,
  createCheckpointSigner,
  directoryAnchor,
  fhirBundle,
  generateCheckpointKey,
  openAuditLog,
  storedToFhir,
  validateEvent,
  verifyLog,
} from '@safeguards/audit-log'
import { IoError, isSafeguardsError, utf8Encode } from '@safeguards/core'
import { errorCode, writeFileAtomic } from '@safeguards/core/node'
import { optionalString, type ParsedValues, parseCommandArgs, requireString } from '../args.js'
import type { CliIO, Command } from '../command.js'
import { CliExit, ExitCode, UsageError } from '../errors.js'
import { optionSpecs, REPEATED, STRING } from '../internal/options.js'
import { commandOf } from '../internal/subcommands.js'
import { createProgress, writeJson, writeLine } from '../output.js'
import { FINDINGS_USAGE, findings } from './audit-findings.js'
import { openLogStore } from './audit-open-log.js'
import { checkProof, prove } from './audit-proof.js'
import { report } from './audit-report.js'
import { REVIEW_USAGE, review } from './audit-review.js'
import { keyringFrom, LOG_OPTS, nonNegative, readJsonFile, withReadOnly } from './audit-shared.js'

const USAGE = `Usage: safeguards audit <subcommand> [options]

Subcommands:
  append      --log LOG [--stream ID] [--key JWK] [--anchor DIR] [--checkpoint-every N]
              Reads events as JSON, one per line, on stdin; prints each record's sequence
              number once it is durable. With --key, writes signed checkpoints (every N
              records and on exit, never one of an unchanged or empty log) and copies them
              to --anchor.
  verify      --log LOG (--public-key JWK... | --no-signatures) [--anchor DIR] [--deep]
              [--json] [--workers N|auto]
              Checks records, hash links, checkpoints and anchors. --public-key (repeat it,
              or give a JWKS) is required: exit 0 means the checkpoint signatures were
              checked, unless --no-signatures opts out. --anchor must be an existing
              directory; one holding none of the log's checkpoints is a finding. Exit 0
              intact, 1 integrity finding, 2 usage (also: no --public-key, no such
              --anchor), 74 I/O error. Progress on stderr. Records are checked on worker
              threads too (auto: one per core but one, none for small logs; 0: the main
              thread only); the report is the same.
  checkpoint  --log LOG --key JWK [--anchor DIR]
              Writes a signed checkpoint of the log now, unless the log is empty or has not
              grown since its newest checkpoint (then nothing is written).
  prove       --log LOG --seq N
              Prints an inclusion proof bundle (JSON) for record N that an auditor can check
              offline with 'safeguards audit check-proof'.
  prove       --log LOG --from-size N [--to-size M]
              Prints a consistency proof bundle (JSON): the stored checkpoint of M records
              (default: the newest) extends the one of N records, so none of the first N
              records was rewritten in between. N and M must be sizes of stored checkpoints.
  check-proof --proof FILE --public-key JWK...
              Checks an inclusion or a consistency proof bundle. Exit 0 valid, 1 invalid.
  report      --log LOG (--patient ID | --who ID) [--from T] [--to T]
              [--json | --csv | --fhir] [--prove] [--scan] [--by ID]
              Lists every access to one patient's record (or one user's activity), a row
              per record: seq, time, who, role, action, interaction, outcome, purpose of
              use, emergency. --prove (with --json) attaches to every row an inclusion
              proof against the newest signed checkpoint, which then bounds the report;
              check one with check-proof. --scan reads every record instead of the index
              (same rows). The run is recorded in the log (by --by ID) before the report
              is printed. Identifiers are shown as stored. Exit 0, 1 damaged log, 2 usage.
  export      --log LOG --format fhir-r4 [--bundle] [--from N] [--to N]
              Prints FHIR R4 AuditEvent resources as NDJSON (or one Bundle).
  keygen      --out FILE
              Writes a new Ed25519 checkpoint signing key (private JWK, mode 0600) and prints
              its public JWK.
${REVIEW_USAGE}
${FINDINGS_USAGE}

LOG is a log directory or a postgres://…?stream=NAME URL. JWK files hold one JWK or a JWKS.`

async function signerFrom(io: CliIO, values: ParsedValues) {
  const path = optionalString(values, 'key')
  if (path === undefined) return undefined
  const jwk = readJsonFile(io, path, '--key') as Record<string, unknown>
  try {
    return await createCheckpointSigner(jwk)
  } catch (e) {
    throw new UsageError(`--key: ${e instanceof Error ? e.message : 'invalid key'}`, { cause: e })
  }
}

async function append(argv: string[], io: CliIO): Promise<number> {
  const { values } = parseCommandArgs(argv, {
    ...LOG_OPTS,
    ...optionSpecs({ strings: ['stream', 'key', 'anchor', 'checkpoint-every'] }),
  })
  const spec = requireString(values, 'log')
  const signer = await signerFrom(io, values)
  const every = nonNegative(values, 'checkpoint-every') ?? 1000
  if (every < 1) throw new UsageError('--checkpoint-every expects at least 1')
  const anchorDir = optionalString(values, 'anchor')
  const stream = optionalString(values, 'stream')
  const store = await openLogStore(spec, io, { readOnly: false, ...(stream === undefined ? {} : { stream }) })
  const log = await openAuditLog({
    store,
    ...(signer === undefined ? {} : { signer }),
    ...(anchorDir === undefined ? {} : { anchor: directoryAnchor(resolve(io.cwd, anchorDir)) }),
    checkpointEvery: { records: every, ms: 0 },
  })
  if (signer === undefined)
    io.stderr.write('safeguards audit append: no --key, so no checkpoint is written\n')
  const inflight: Promise<AppendResult>[] = []
  const flushOne = async (): Promise<void> => {
    const r = await inflight.shift()!
    writeLine(io, String(r.seq))
  }
  let bad: UsageError | undefined
  let lineNo = 0
  try {
    const rl = createInterface({ input: io.stdin, crlfDelay: Number.POSITIVE_INFINITY })
    for await (const line of rl) {
      lineNo++
      if (line.trim() === '') continue
      let event: ReturnType<typeof validateEvent>
      try {
        event = validateEvent(line)
      } catch (e) {
        bad = new UsageError(
          `line ${lineNo}: ${e instanceof Error ? e.message : 'invalid event'}${isSafeguardsError(e) ? ` (${e.code})` : ''}`,
        )
        rl.close()
        break
      }
      inflight.push(log.append(event))
      if (inflight.length >= 1024) await flushOne()
    }
    while (inflight.length > 0) await flushOne()
  } finally {
    await Promise.allSettled(inflight)
    await log.close()
  }
  if (bad !== undefined) throw bad
  return ExitCode.OK
}

/**
 * The directory an `--anchor DIR` names, which must exist: a mistyped anchor would otherwise read
 * as one that holds nothing, dropping the only protection against tail truncation.
 */
function existingAnchorDir(io: CliIO, values: ParsedValues): string | undefined {
  const anchor = optionalString(values, 'anchor')
  if (anchor === undefined) return undefined
  const dir = resolve(io.cwd, anchor)
  let isDir = false
  try {
    isDir = statSync(dir).isDirectory()
  } catch {
    // reported below
  }
  if (!isDir) throw new UsageError('--anchor: no such directory (the anchor must exist to be checked)')
  return dir
}

async function verify(argv: string[], io: CliIO): Promise<number> {
  const { values } = parseCommandArgs(argv, {
    ...LOG_OPTS,
    ...optionSpecs({ strings: ['anchor', 'workers'], flags: ['no-signatures', 'deep', 'json'] }),
    'public-key': REPEATED,
  })
  const spec = requireString(values, 'log')
  // Exit 0 means the checkpoint signatures were checked, unless the caller opted out explicitly.
  const skipSignatures = values['no-signatures'] === true
  const hasKeys = Array.isArray(values['public-key']) && values['public-key'].length > 0
  if (skipSignatures && hasKeys) throw new UsageError('--public-key and --no-signatures exclude each other')
  if (!skipSignatures && !hasKeys)
    throw new UsageError(
      '--public-key is required (every public key that ever signed checkpoints); pass --no-signatures to verify without checking signatures',
    )
  const w = optionalString(values, 'workers')
  if (w !== undefined && w !== 'auto' && !/^\d{1,3}$/.test(w))
    throw new UsageError('--workers expects a number of threads or auto')
  const workers = w === undefined || w === 'auto' ? 'auto' : Number(w)
  if (workers !== 'auto' && workers > 256) throw new UsageError('--workers expects at most 256')
  const keyring = await keyringFrom(io, values)
  const anchorDir = existingAnchorDir(io, values)
  const store = await openLogStore(spec, io, { readOnly: true })
  try {
    const progress = createProgress(io, { label: 'records' })
    let last = 0
    const report = await verifyLog(store, {
      ...(keyring === undefined ? {} : { keyring }),
      ...(anchorDir === undefined ? {} : { anchor: directoryAnchor(anchorDir) }),
      deep: values.deep === true,
      workers,
      onProgress: (done, total) => {
        progress.setTotal(total)
        progress.tick(done - last)
        last = done
      },
    })
    progress.done()
    if (values.json === true) {
      writeJson(io, report)
    } else {
      for (const f of report.findings) writeLine(io, `${f.severity}\tseq ${f.seq}\t${f.code}\t${f.message}`)
      const anchored =
        report.anchoredThrough === null ? 'not anchored' : `anchored through seq ${report.anchoredThrough}`
      const signatures = skipSignatures
        ? 'signatures not checked (--no-signatures)'
        : `${report.checkpoints.verified}/${report.checkpoints.total} checkpoints verified`
      writeLine(
        io,
        `${report.ok ? 'OK' : 'FAILED'}: ${report.records} records verified, ${signatures}, ${anchored}`,
      )
    }
    return report.ok ? ExitCode.OK : ExitCode.CHECK_FAILED
  } finally {
    await store.close()
  }
}

async function checkpoint(argv: string[], io: CliIO): Promise<number> {
  const { values } = parseCommandArgs(argv, { ...LOG_OPTS, key: STRING, anchor: STRING })
  const spec = requireString(values, 'log')
  requireString(values, 'key')
  const signer = (await signerFrom(io, values))!
  const anchorDir = optionalString(values, 'anchor')
  const store = await openLogStore(spec, io, { readOnly: false })
  const log = await openAuditLog({
    store,
    signer,
    ...(anchorDir === undefined ? {} : { anchor: directoryAnchor(resolve(io.cwd, anchorDir)) }),
    checkpointEvery: { ms: 0 },
  })
  try {
    const before = (await store.checkpointHead()).count
    const cp = await log.checkpoint()
    if (cp === null) writeLine(io, 'the log is empty: no checkpoint written')
    else if ((await store.checkpointHead()).count === before)
      writeLine(io, `the log is unchanged since the checkpoint of ${cp.size} records: none written`)
    else writeLine(io, `checkpoint of ${cp.size} records written (key ${signer.kid})`)
  } finally {
    await log.close()
  }
  return ExitCode.OK
}

async function exportFhir(argv: string[], io: CliIO): Promise<number> {
  const { values } = parseCommandArgs(argv, {
    ...LOG_OPTS,
    ...optionSpecs({ strings: ['format', 'from', 'to'], flags: ['bundle'] }),
  })
  const spec = requireString(values, 'log')
  if (requireString(values, 'format') !== 'fhir-r4') throw new UsageError('--format must be fhir-r4')
  const from = nonNegative(values, 'from') ?? 0
  const to = nonNegative(values, 'to')
  return withReadOnly(io, spec, async (store) => {
    const resources = []
    for await (const r of store.read(from, to)) {
      let resource: ReturnType<typeof storedToFhir>
      try {
        resource = storedToFhir(r)
      } catch (e) {
        throw new CliExit(
          ExitCode.CHECK_FAILED,
          `record ${r.seq} is not readable; run safeguards audit verify`,
          { cause: e },
        )
      }
      if (values.bundle === true) resources.push(resource)
      else io.stdout.write(`${JSON.stringify(resource)}\n`)
    }
    if (values.bundle === true) writeJson(io, fhirBundle(resources, new Date().toISOString()))
    return ExitCode.OK
  })
}

async function keygen(argv: string[], io: CliIO): Promise<number> {
  const { values } = parseCommandArgs(argv, { out: STRING })
  const out = resolve(io.cwd, requireString(values, 'out'))
  const { privateJwk, publicJwk } = await generateCheckpointKey()
  try {
    // Durable, and created whole or not at all (never over an existing file).
    await writeFileAtomic(out, utf8Encode(`${JSON.stringify(privateJwk)}\n`), {
      mode: 0o600,
      exclusive: true,
    })
  } catch (e) {
    const code = e instanceof IoError ? e.syscallCode : errorCode(e)
    throw new UsageError(`cannot write --out (${code ?? 'error'})`, { cause: e })
  }
  writeJson(io, publicJwk)
  return ExitCode.OK
}

/**
 * The `safeguards audit` command: `append`, `verify` (exit 0 intact, 1 integrity finding, 2 usage,
 * 74 I/O error), `checkpoint`, `prove`, `check-proof`, `report`, `export --format fhir-r4`, `keygen`,
 * `review` (exit 0 nothing at or above `--fail-on`, 1 found, 2 usage or I/O), `findings list|ack|suppress`
 * (exit 0, 1 damaged store, 2 usage, unknown id or self-review, 74 I/O).
 *
 * HIPAA: 164.312(b) audit controls (including the trail's own integrity) and 164.308(a)(1)(ii)(D)
 * information system activity review.
 *
 * @throws {UsageError} for a missing or unknown subcommand or bad options (exit 2).
 * @example
 * ```sh
 * safeguards audit verify --log /var/lib/ehr/audit --anchor /mnt/worm/anchors --public-key log.jwk --json
 * ```
 */
export const auditCommand: Command = commandOf({
  name: 'audit',
  summary: 'append to, verify, checkpoint, prove, report on, export and review a tamper-evident audit log',
  usage: USAGE,
  subcommands: {
    append,
    verify,
    checkpoint,
    prove,
    'check-proof': checkProof,
    report,
    export: exportFhir,
    keygen,
    review,
    findings,
  },
})
