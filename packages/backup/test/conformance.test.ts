/**
 * The Library of Congress BagIt conformance suite (copied into test/vectors/bagit-conformance, see
 * test/vectors/README.md), read in place: every `valid` bag validates, every `invalid` and
 * `linux-only` bag fails, every `warning` bag validates with at least one warning. Versions 1.0
 * and 0.97 as the issue asks, and the older version folders too since they are there.
 */
import { existsSync, readdirSync } from 'node:fs'
import { join, resolve } from 'node:path'
import { describe, expect, it } from 'vitest'
import { verifyBag } from '../src/index.js'

const suite = resolve(import.meta.dirname, 'vectors/bagit-conformance')
const versions = ['v1.0', 'v0.97', 'v0.96', 'v0.95', 'v0.94', 'v0.93']

function cases(version: string, category: string): string[] {
  const dir = join(suite, version, category)
  if (!existsSync(dir)) return []
  return readdirSync(dir, { withFileTypes: true })
    .filter((d) => d.isDirectory())
    .map((d) => d.name)
    .sort()
}

describe('BagIt conformance suite', () => {
  it('is present', () => {
    expect(existsSync(suite), suite).toBe(true)
    expect(cases('v1.0', 'valid').length).toBeGreaterThan(0)
    expect(cases('v0.97', 'linux-only').length).toBeGreaterThan(0)
  })
  for (const version of versions) {
    for (const name of cases(version, 'valid')) {
      it(`${version} valid/${name} validates`, async () => {
        const { report } = await verifyBag(join(suite, version, 'valid', name), { concurrency: 1 })
        expect(report.findings.filter((f) => f.severity === 'error')).toEqual([])
        expect(report.exitCode).toBe(0)
      })
    }
    for (const category of ['invalid', 'linux-only']) {
      for (const name of cases(version, category)) {
        it(`${version} ${category}/${name} fails`, async () => {
          const { report } = await verifyBag(join(suite, version, category, name), { concurrency: 1 })
          expect(report.status).toBe('failed')
          expect(report.exitCode).not.toBe(0)
        })
      }
    }
    for (const name of cases(version, 'warning')) {
      it(`${version} warning/${name} validates with a warning`, async () => {
        const { report } = await verifyBag(join(suite, version, 'warning', name), { concurrency: 1 })
        expect(report.findings.filter((f) => f.severity === 'error')).toEqual([])
        expect(report.exitCode).toBe(0)
        // A warning about this bag's defect, not only the generic "unsigned" or "md5" notes.
        const specific = report.findings.filter(
          (f) => f.severity === 'warning' && f.code !== 'W_UNSIGNED' && f.code !== 'W_WEAK_ALGORITHM',
        )
        expect(specific.length).toBeGreaterThan(0)
      })
    }
  }
})
