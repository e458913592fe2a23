/**
 * The process entry point behind `bin/safeguards.js`.
 *
 * @module
 */
import { runCli } from './run.js'

const code = await runCli(process.argv.slice(2), {
  stdin: process.stdin,
  stdout: process.stdout,
  stderr: process.stderr,
  env: process.env,
  cwd: process.cwd(),
})
process.exitCode = code
