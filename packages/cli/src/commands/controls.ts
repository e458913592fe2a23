/**
 * `safeguards controls [--json|--oscal|--markdown]`: the HIPAA matrix from @safeguards/controls.
 *
 * @module
 */
import { coverage, renderMatrix, toOscalComponentDefinition } from '@safeguards/controls'
import { parseCommandArgs } from '../args.js'
import type { Command } from '../command.js'
import { ExitCode, UsageError } from '../errors.js'
import { FLAG } from '../internal/options.js'
import { writeJson } from '../output.js'

const RELEASE_TIMESTAMP = '2026-11-22T00:00:00Z'

/** The `controls` command. */
export const controlsCommand: Command = {
  name: 'controls',
  summary: 'print the HIPAA control matrix, its JSON, or the OSCAL component definition',
  usage: [
    'Usage: safeguards controls [--json | --oscal | --markdown]',
    '',
    'Prints which HIPAA Security Rule specifications the SDK implements or supports, with NIST',
    'SP 800-53 Rev. 5 controls (and whether each mapping is NIST’s own or our engineering judgement),',
    'the APIs that serve them, and what stays the application team’s responsibility.',
    '',
    '  --json      the coverage document (coverage.json)',
    '  --oscal     the OSCAL 1.0.6 component definition',
    '  --markdown  the matrix as a Markdown table',
  ].join('\n'),
  async run({ argv, io }) {
    const { values } = parseCommandArgs(argv, { json: FLAG, oscal: FLAG, markdown: FLAG })
    if ([values.json, values.oscal, values.markdown].filter(Boolean).length > 1) {
      throw new UsageError('choose one of --json, --oscal, --markdown')
    }
    if (values.json) writeJson(io, coverage)
    else if (values.oscal)
      writeJson(io, toOscalComponentDefinition(coverage, { lastModified: RELEASE_TIMESTAMP }))
    else io.stdout.write(renderMatrix(coverage, values.markdown ? 'markdown' : 'text'))
    return ExitCode.OK
  },
}
