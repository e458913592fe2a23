import { readFileSync } from 'node:fs'
import { resolve } from 'node:path'
import { describe, expect, it } from 'vitest'
import { runCli } from '../src/index.js'
import { fakeIO } from './helpers.js'

const controlsDir = resolve(import.meta.dirname, '../../controls')

describe('safeguards controls', () => {
  it('prints the matrix with every 164.312 specification', async () => {
    const f = fakeIO()
    expect(await runCli(['controls'], f.io)).toBe(0)
    for (const id of [
      '164.312(a)(2)(iii)',
      '164.312(a)(2)(iv)',
      '164.312(b)',
      '164.312(d)',
      '164.312(e)(2)(ii)',
    ]) {
      expect(f.stdout()).toContain(id)
    }
    expect(f.stdout()).toMatch(/\d+ citations: /)
  })

  it('--json prints the committed coverage.json document', async () => {
    const f = fakeIO()
    expect(await runCli(['controls', '--json'], f.io)).toBe(0)
    expect(JSON.parse(f.stdout())).toEqual(
      JSON.parse(readFileSync(resolve(controlsDir, 'coverage.json'), 'utf8')),
    )
  })

  it('--oscal prints the committed component definition byte for byte', async () => {
    const f = fakeIO()
    expect(await runCli(['controls', '--oscal'], f.io)).toBe(0)
    expect(f.stdout()).toBe(readFileSync(resolve(controlsDir, 'oscal/component-definition.json'), 'utf8'))
  })

  it('--markdown prints a table; conflicting flags are a usage error', async () => {
    const f = fakeIO()
    expect(await runCli(['controls', '--markdown'], f.io)).toBe(0)
    expect(f.stdout()).toMatch(/^\| citation \| title \|/)
    const g = fakeIO()
    expect(await runCli(['controls', '--json', '--oscal'], g.io)).toBe(2)
    expect(g.stderr()).toBe('safeguards controls: choose one of --json, --oscal, --markdown\n')
  })
})
