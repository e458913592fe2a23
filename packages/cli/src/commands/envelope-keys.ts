/**
 * `safeguards keys init|rotate|promote|list|retire|destroy`: the local keyring's lifecycle.
 * Rotation is two-phase when needed: `rotate --stage` adds a decrypt-only version (distribute the
 * keyring), `promote --version N` makes it primary; plain `rotate` does both at once.
 *
 * @module
 */
import { lstat } from 'node:fs/promises'
import { LocalKeyring } from '@safeguards/envelope'
import { parseCommandArgs, requireString, unknownSubcommand } from '../args.js'
import type { CliIO, Command } from '../command.js'
import { ExitCode, UsageError } from '../errors.js'
import { safeText, writeJson, writeLine } from '../output.js'
import {
  keyringHelp,
  keyringOptions,
  keyringOpts,
  keyringPath,
  mapEnvelopeError,
  openKeyring,
} from './envelope-shared.js'

const usage = [
  'Usage: safeguards keys <init|rotate|promote|list|retire|destroy> --keyring PATH [options]',
  '',
  '  init [--name NAME]                create a keyring with version 1 as primary (mode 0600)',
  '  rotate [--stage]                  add a version and promote it; --stage only adds it (decrypt-only)',
  '  promote --version N               make version N the primary',
  '  list [--json]                     versions, states, created-at and usage',
  '  retire --version N                disable a version once everything is rewrapped',
  '  destroy --version N --allow-destroy   erase a version for good (its data becomes unreadable)',
  '',
  keyringHelp,
  '',
  'Exit codes: 0 ok; 2 usage, malformed keyring, a keyring that already exists (init) or a forbidden',
  'transition; 3 key unavailable (sealed keyring, no secret); 74 the keyring cannot be read or',
  'written (names the path); 75 the keyring lock is held by another process or was lost (retry).',
].join('\n')

function version(values: Record<string, unknown>): number {
  const v = Number(requireString(values as Record<string, string>, 'version'))
  if (!Number.isSafeInteger(v) || v < 1) throw new UsageError('--version expects a positive integer')
  return v
}

async function run(argv: string[], io: CliIO): Promise<number> {
  const [sub, ...rest] = argv
  const { values } = parseCommandArgs(rest, {
    ...keyringOptions,
    name: { type: 'string' },
    stage: { type: 'boolean' },
    version: { type: 'string' },
    json: { type: 'boolean' },
    'allow-destroy': { type: 'boolean' },
  })
  try {
    switch (sub) {
      case 'init': {
        const name = typeof values.name === 'string' ? values.name : undefined
        const path = keyringPath(values, io)
        // Say so plainly (exit 2); create() refuses an existing file atomically in any case.
        if (
          await lstat(path).then(
            () => true,
            () => false,
          )
        )
          throw new UsageError(`--keyring ${path} already exists; refusing to overwrite it`)
        const kr = await LocalKeyring.create(path, {
          ...keyringOpts(values, io),
          ...(name === undefined ? {} : { name }),
        })
        writeLine(
          io,
          `created keyring ${safeText(kr.name)}: primary ${safeText((await kr.primary()).keyRef)}${kr.sealed ? ' (sealed)' : ''}`,
        )
        return ExitCode.OK
      }
      case 'rotate': {
        const kr = await openKeyring(values, io)
        const d = values.stage === true ? await kr.addVersion() : await kr.rotate()
        writeLine(io, `${safeText(d.keyRef)} added (${d.state})`)
        return ExitCode.OK
      }
      case 'promote': {
        const d = await (await openKeyring(values, io)).promote(version(values))
        writeLine(io, `${safeText(d.keyRef)} is the primary`)
        return ExitCode.OK
      }
      case 'retire': {
        const d = await (await openKeyring(values, io)).retire(version(values))
        writeLine(io, `${safeText(d.keyRef)} retired`)
        return ExitCode.OK
      }
      case 'destroy': {
        const v = version(values)
        if (values['allow-destroy'] !== true) {
          throw new UsageError('destroy erases the key for good; add --allow-destroy to confirm')
        }
        const d = await (await openKeyring(values, io)).destroy(v, { allowDestroy: true })
        writeLine(io, `${safeText(d.keyRef)} destroyed`)
        return ExitCode.OK
      }
      case 'list': {
        const kr = await openKeyring(values, io)
        const keys = await kr.list()
        if (values.json === true) {
          writeJson(io, {
            name: kr.name,
            sealed: kr.sealed,
            keys: keys.map((k) => ({
              keyRef: k.keyRef,
              version: k.version,
              state: k.state,
              retired: k.retired === true,
              createdAt: k.createdAt === undefined ? null : new Date(k.createdAt).toISOString(),
              usage: k.usage
                ? {
                    wraps: k.usage.wraps.toString(),
                    limit: k.usage.limit.toString(),
                    warnAt: k.usage.warnAt.toString(),
                  }
                : null,
            })),
          })
        } else {
          for (const k of keys) {
            const created = k.createdAt === undefined ? '-' : new Date(k.createdAt).toISOString()
            writeLine(
              io,
              `${safeText(k.keyRef)}\t${k.retired ? 'retired' : k.state}\t${created}\t${k.usage?.wraps ?? 0n} wraps`,
            )
          }
        }
        return ExitCode.OK
      }
      default:
        throw unknownSubcommand('keys', sub, ['init', 'rotate', 'promote', 'list', 'retire', 'destroy'])
    }
  } catch (error) {
    mapEnvelopeError(error)
  }
}

/** `safeguards keys`. */
export const keysCommand: Command = {
  name: 'keys',
  summary: 'manage the local keyring: init, rotate, promote, list, retire, destroy',
  usage,
  run: ({ argv, io }) => run(argv, io),
}
