/**
 * The Safeguards tour: runs each package's step and prints what it demonstrates and the HIPAA
 * safeguard it serves. `npm run demo` from the repository root runs it.
 */
import { errorCode } from '@safeguards/core/node'
import { steps } from './steps/index.js'

const out = (line: string): void => {
  process.stdout.write(`${line}\n`)
}

out('Safeguards tour: HIPAA safeguard primitives, one step per package\n')
let failed = 0
for (const [i, step] of steps.entries()) {
  out(`${i + 1}. ${step.package}: ${step.title}`)
  out(`   HIPAA: ${step.hipaa.join('; ')}`)
  try {
    await step.run((line) => out(`   · ${line}`))
  } catch (error) {
    failed++
    const code = errorCode(error)
    out(`   ✖ step failed${code === undefined ? '' : ` (${code})`}`)
    if (process.env.SAFEGUARDS_DEBUG === '1') console.error(error)
  }
  out('')
}
out(failed === 0 ? `Tour complete: ${steps.length} step(s).` : `Tour finished with ${failed} failed step(s).`)
process.exitCode = failed === 0 ? 0 : 1
