import { execFileSync } from 'node:child_process'
import { resolve } from 'node:path'
import { describe, expect, it } from 'vitest'
import { steps } from '../src/steps/index.js'

describe('tour', () => {
  it('every step runs and says something', async () => {
    for (const step of steps) {
      const lines: string[] = []
      await step.run((l) => lines.push(l))
      expect(lines.length, step.package).toBeGreaterThan(0)
      expect(step.hipaa.length, step.package).toBeGreaterThan(0)
    }
  })

  it('the demo entry point runs end to end and exits 0', () => {
    const root = resolve(import.meta.dirname, '..')
    const out = execFileSync(
      process.execPath,
      ['--conditions=@safeguards/source', '--import', 'tsx', 'src/main.ts'],
      { cwd: root, encoding: 'utf8', env: { ...process.env, NODE_OPTIONS: '' } },
    )
    expect(out).toContain('Tour complete')
    expect(out).toContain('<redacted>')
    expect(out).not.toContain('correct horse')
  })
})
