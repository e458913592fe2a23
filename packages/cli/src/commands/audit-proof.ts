/**
 * `safeguards audit prove` and `check-proof`: offline proofs an auditor checks with the log's public
 * key alone. An inclusion proof (`--seq N`) shows that record N is in a signed checkpoint; a
 * consistency proof (`--from-size N [--to-size M]`) shows that the signed checkpoint of M records
 * extends the one of N records, so nothing in the first N records was rewritten in between
 * (RFC 9162 §2.1.4). Bundle formats: `docs/formats/audit-log-v1.md`.
 *
 * HIPAA: 164.312(c)(1) integrity, 164.308(a)(1)(ii)(D) information system activity review.
 *
 * @module
 */
import {
  type AuditStore,
  type BundleVerdict,
  type ConsistencyBundle,
  type InclusionBundle,
  proveConsistency,
  proveInclusion,
  type StoredCheckpoint,
  verifyConsistencyBundle,
  verifyInclusionBundle,
} from '@safeguards/audit-log'
import { isSafeguardsError } from '@safeguards/core'
import { parseCommandArgs, requireString } from '../args.js'
import type { CliIO } from '../command.js'
import { CliExit, ExitCode, UsageError } from '../errors.js'
import { optionSpecs, REPEATED, STRING } from '../internal/options.js'
import { writeJson, writeLine } from '../output.js'
import { keyringFrom, LOG_OPTS, nonNegative, readJsonFile, withReadOnly } from './audit-shared.js'

/** Runs a proof builder: a range problem is a usage error, records that do not match exit 1. */
async function build<T>(what: string, f: () => Promise<T>): Promise<T> {
  try {
    return await f()
  } catch (e) {
    if (e instanceof RangeError) throw new UsageError(`${what}: ${e.message}`)
    if (isSafeguardsError(e, 'ERR_AUDIT_CORRUPT')) throw new CliExit(ExitCode.CHECK_FAILED, e.message)
    throw e
  }
}

/** The newest stored checkpoint of `size` records. */
function checkpointOf(all: readonly StoredCheckpoint[], size: number, flag: string): StoredCheckpoint {
  for (let i = all.length - 1; i >= 0; i--) if (all[i]!.size === size) return all[i]!
  const sizes = [...new Set(all.map((c) => c.size))]
  const shown = sizes.length > 20 ? [...sizes.slice(0, 10), '…', ...sizes.slice(-10)] : sizes
  throw new UsageError(
    `${flag} ${size}: no stored checkpoint has that size (sizes: ${shown.length === 0 ? 'none' : shown.join(', ')})`,
  )
}

async function consistency(store: AuditStore, fromSize: number, toSize: number | undefined) {
  const all = await store.readCheckpoints()
  const from = checkpointOf(all, fromSize, '--from-size')
  const to = toSize === undefined ? all[all.length - 1]! : checkpointOf(all, toSize, '--to-size')
  if (to.size < from.size)
    throw new UsageError(`--to-size ${to.size} is below --from-size ${from.size}: a log only grows`)
  return build(`--from-size ${fromSize}`, () => proveConsistency(store, from, to))
}

/**
 * `safeguards audit prove --log LOG (--seq N | --from-size N [--to-size M])`: prints a proof bundle.
 *
 * @throws {UsageError} for bad options, a seq no checkpoint covers, or a size no checkpoint has.
 * @throws {CliExit} (exit 1) when the records do not match the checkpoint.
 */
export async function prove(argv: string[], io: CliIO): Promise<number> {
  const { values } = parseCommandArgs(argv, {
    ...LOG_OPTS,
    ...optionSpecs({ strings: ['seq', 'from-size', 'to-size'] }),
  })
  const spec = requireString(values, 'log')
  const seq = nonNegative(values, 'seq')
  const fromSize = nonNegative(values, 'from-size')
  const toSize = nonNegative(values, 'to-size')
  if ((seq === undefined) === (fromSize === undefined))
    throw new UsageError('give --seq N (inclusion) or --from-size N [--to-size M] (consistency)')
  if (seq !== undefined && toSize !== undefined) throw new UsageError('--to-size goes with --from-size')
  return withReadOnly(io, spec, async (store) => {
    writeJson(
      io,
      seq !== undefined
        ? await build(`--seq ${seq}`, () => proveInclusion(store, seq))
        : await consistency(store, fromSize!, toSize),
    )
    return ExitCode.OK
  })
}

/**
 * `safeguards audit check-proof --proof FILE --public-key JWK...`: checks an inclusion or a
 * consistency bundle offline. Exit 0 valid, 1 invalid, 2 usage.
 *
 * @throws {UsageError} for a missing key or an unreadable bundle.
 * @throws {CliExit} (exit 1) when the proof does not hold.
 */
export async function checkProof(argv: string[], io: CliIO): Promise<number> {
  const { values } = parseCommandArgs(argv, { proof: STRING, 'public-key': REPEATED })
  const bundle = readJsonFile(io, requireString(values, 'proof'), '--proof') as { typ?: unknown }
  const keyring = await keyringFrom(io, values)
  if (keyring === undefined) throw new UsageError('--public-key is required')
  let verdict: BundleVerdict
  let what: (kid: string | undefined) => string
  if (typeof bundle === 'object' && bundle !== null && bundle.typ === 'safeguards.audit-consistency-proof') {
    const b = bundle as ConsistencyBundle
    verdict = await verifyConsistencyBundle(b, keyring)
    what = (kid) =>
      `the checkpoint of ${b.to.size} records of ${b.stream} extends the checkpoint of ${b.from.size} records (signed by ${kid})`
  } else {
    const b = bundle as InclusionBundle
    verdict = await verifyInclusionBundle(b, keyring)
    what = (kid) =>
      `record ${b.seq} of ${b.stream} is in the checkpoint of ${b.checkpoint.size} records signed by ${kid}`
  }
  if (!verdict.valid)
    throw new CliExit(ExitCode.CHECK_FAILED, `invalid: ${verdict.reason ?? 'proof rejected'}`)
  writeLine(io, `valid: ${what(verdict.kid)}`)
  return ExitCode.OK
}
