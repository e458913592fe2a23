/**
 * Reading a small JSON document named on the command line (a policy, a key, a report input): size
 * capped before decoding, strict UTF-8, the SDK's duplicate-key-refusing JSON parser. What fails is
 * named by the option, never by the file's contents.
 *
 * @module
 */
import { readFile } from 'node:fs/promises'
import { resolve } from 'node:path'
import { IoError, isSafeguardsError, parseJson } from '@safeguards/core'
import type { CliIO } from '../command.js'
import { UsageError } from '../errors.js'

/** The default cap of {@link readJsonOption}: 1 MiB. */
export const MAX_JSON_OPTION_BYTES: number = 1 << 20

/**
 * Reads and parses the JSON file `file` given as `--flag`, relative to the working directory.
 *
 * @throws {IoError} (exit 74) naming the path when it cannot be read.
 * @throws {UsageError} (`invalid-input`, exit 2) when it is larger than 1 MiB, not UTF-8 or not
 * valid JSON (with the parser's reason: an offset, never the text).
 */
export async function readJsonOption(io: CliIO, file: string, flag: string): Promise<unknown> {
  const path = resolve(io.cwd, file)
  let bytes: Uint8Array
  try {
    bytes = await readFile(path)
  } catch (e) {
    throw new IoError(`read the --${flag}`, path, { cause: e })
  }
  if (bytes.length > MAX_JSON_OPTION_BYTES) throw new UsageError(`--${flag} is larger than 1 MiB`)
  let text: string
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(bytes)
  } catch (e) {
    throw new UsageError(`--${flag} is not UTF-8 text`, { cause: e, category: 'invalid-input' })
  }
  try {
    return parseJson(text)
  } catch (e) {
    const reason = isSafeguardsError(e) ? e.message : 'parse error'
    throw new UsageError(`--${flag} is not valid JSON (${reason})`, { cause: e, category: 'invalid-input' })
  }
}
