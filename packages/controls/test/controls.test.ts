import { execFileSync, spawnSync } from 'node:child_process'
import { readFileSync } from 'node:fs'
import { resolve } from 'node:path'
import { Ajv } from 'ajv'
import addFormatsModule from 'ajv-formats'
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import {
  buildCoverage,
  ControlTagError,
  CoverageError,
  coverage,
  findCitation,
  hipaaCatalog,
  hipaaControlId,
  nistControls,
  nistOscalId,
  parseControlTags,
  renderMatrix,
  toOscalComponentDefinition,
} from '../src/index.js'
import { uuidv5 } from '../src/internal/uuid.js'

const pkgDir = resolve(import.meta.dirname, '..')
const schemaPath = resolve(pkgDir, 'test/vectors/oscal/oscal_component_schema-1.0.6.json')
const addFormats = addFormatsModule as unknown as (ajv: Ajv) => Ajv

function validator(): (doc: unknown) => { ok: boolean; errors: string } {
  const ajv = new Ajv({ strict: false, allErrors: true })
  addFormats(ajv)
  const validate = ajv.compile(JSON.parse(readFileSync(schemaPath, 'utf8')) as object)
  return (doc) => ({ ok: validate(doc) as boolean, errors: ajv.errorsText(validate.errors) })
}

describe('HIPAA catalog', () => {
  const specs = hipaaCatalog.filter(
    (c) => c.safeguard !== 'privacy' && (c.designation === 'required' || c.designation === 'addressable'),
  )
  it('has the 39 implementation specifications of 164.308–164.316: 17 Required, 22 Addressable', () => {
    expect(specs).toHaveLength(39)
    expect(specs.filter((c) => c.designation === 'required')).toHaveLength(17)
    expect(specs.filter((c) => c.designation === 'addressable')).toHaveLength(22)
    const per = (s: string, d: string): number =>
      specs.filter((c) => c.id.startsWith(s) && c.designation === d).length
    expect([per('164.308', 'required'), per('164.308', 'addressable')]).toEqual([10, 11])
    expect([per('164.310', 'required'), per('164.310', 'addressable')]).toEqual([2, 6])
    expect([per('164.312', 'required'), per('164.312', 'addressable')]).toEqual([2, 5])
    expect([per('164.316', 'required'), per('164.316', 'addressable')]).toEqual([3, 0])
  })

  it('ids are unique, standards exist, and every specification names its standard', () => {
    expect(new Set(hipaaCatalog.map((c) => c.id)).size).toBe(hipaaCatalog.length)
    for (const c of specs) {
      expect(c.standard, c.id).toBeDefined()
      expect(findCitation(c.standard as string)?.designation, c.id).toBe('standard')
    }
    expect(findCitation('164.312(a)(2)(iii)')?.title).toBe('Automatic logoff')
    expect(findCitation('164.312(b)')?.designation).toBe('standard-required')
    expect(findCitation('164.999(z)')).toBeUndefined()
  })

  it('flags proposed-rule changes as such, and every addressable one', () => {
    for (const c of specs.filter((s) => s.designation === 'addressable'))
      expect(c.proposed, c.id).toMatch(/NPRM 2025/)
    expect(findCitation('164.312(d)')?.proposed).toMatch(/multi-factor/)
    expect(findCitation('164.308(a)(1)(ii)(C)')?.proposed).toBeUndefined()
  })

  it('maps citations to OSCAL tokens and NIST ids to OSCAL ids', () => {
    expect(hipaaControlId('164.312(a)(2)(iii)')).toBe('hipaa-164.312-a.2.iii')
    expect(hipaaControlId('164.312(b)')).toBe('hipaa-164.312-b')
    expect(() => hipaaControlId('164.312')).toThrow(RangeError)
    for (const c of hipaaCatalog) expect(hipaaControlId(c.id)).toMatch(/^(\p{L}|_)(\p{L}|\p{N}|[.\-_])*$/u)
    expect(nistOscalId('IA-2(1)')).toBe('ia-2.1')
    expect(nistOscalId('AC-12')).toBe('ac-12')
    expect(() => nistOscalId('ac-12')).toThrow(RangeError)
    for (const id of Object.keys(nistControls)) expect(nistOscalId(id)).toMatch(/^[a-z]{2}-\d+(\.\d+)?$/)
  })
})

describe('control tags', () => {
  it('parses every tag, multi-line text and lists', () => {
    const tags = parseControlTags(`/**
     * Creates a manager.
     * @hipaa 164.312(a)(2)(iii) implements
     * @hipaa 164.312(d) supports
     * @nist AC-12 cprt
     * @nist AC-12(1) engineering
     * @evidence a session.expired event
     *   with the reason
     * @appResponsibility Choose timeouts.
     * @config idleTimeoutMs, absoluteTimeoutMs
     * @verifiedBy packages/session/test/a.test.ts
     * @example
     * createSessionManager()
     */`)
    expect(tags).toEqual({
      hipaa: [
        { citation: '164.312(a)(2)(iii)', level: 'implements' },
        { citation: '164.312(d)', level: 'supports' },
      ],
      nist: [
        { control: 'AC-12', source: 'cprt' },
        { control: 'AC-12(1)', source: 'engineering' },
      ],
      evidence: ['a session.expired event with the reason'],
      appResponsibility: ['Choose timeouts.'],
      config: ['idleTimeoutMs', 'absoluteTimeoutMs'],
      verifiedBy: ['packages/session/test/a.test.ts'],
    })
  })

  it.each([
    '@hipaa 164.312(a)(2)(iii)',
    '@hipaa 164.312 implements',
    '@hipaa 164.312(a) covers',
    '@nist AC-12',
    '@nist ac-12 cprt',
    '@nist AC-12 nist',
    '@evidence',
  ])('rejects %j', (line) => {
    expect(() => parseControlTags(line)).toThrow(ControlTagError)
  })

  it('never throws anything but ControlTagError (property)', () => {
    fc.assert(
      fc.property(fc.string(), (s) => {
        try {
          parseControlTags(`@hipaa ${s}`)
        } catch (e) {
          expect(e).toBeInstanceOf(ControlTagError)
        }
      }),
    )
  })
})

describe('coverage and OSCAL', () => {
  const api = (pkg: string, name: string, comment: string) => ({
    package: pkg,
    api: name,
    file: 'x.ts',
    tags: parseControlTags(comment),
  })
  const sample = buildCoverage(
    [
      api(
        '@safeguards/session',
        'createSessionManager',
        '@hipaa 164.312(a)(2)(iii) implements\n@nist AC-12 cprt\n@appResponsibility Pick timeouts.',
      ),
      api('@safeguards/session', 'requireRecentAuth', '@hipaa 164.312(d) supports\n@nist IA-11 engineering'),
      api(
        '@safeguards/mfa',
        'createTotpVerifier',
        '@hipaa 164.312(d) implements\n@nist IA-2(8) engineering\n@nist IA-11 cprt',
      ),
    ],
    '9.9.9',
  )

  it('aggregates per citation: implements beats supports, cprt beats engineering', () => {
    const row = (id: string) => sample.rows.find((r) => r.citation === id)
    expect(row('164.312(a)(2)(iii)')?.coverage).toBe('implements')
    expect(row('164.312(d)')?.coverage).toBe('implements')
    expect(row('164.312(d)')?.apis.map((a) => a.api)).toEqual(['createTotpVerifier', 'requireRecentAuth'])
    expect(row('164.312(d)')?.nist).toEqual([
      { control: 'IA-2(8)', title: 'Access to Accounts — Replay Resistant', source: 'engineering' },
      { control: 'IA-11', title: 'Re-authentication', source: 'cprt' },
    ])
    expect(row('164.308(a)(4)(ii)(A)')?.coverage).toBe('not-applicable')
    expect(row('164.308(a)(1)(ii)(A)')?.coverage).toBe('app-team')
    expect(row('164.312(a)(2)(iii)')?.appResponsibility).toContain('Pick timeouts.')
    expect(sample.rows).toHaveLength(hipaaCatalog.length)
  })

  it('rejects unknown citations and controls', () => {
    expect(() => buildCoverage([api('p', 'a', '@hipaa 164.312(z) implements')], '1')).toThrow(CoverageError)
    expect(() =>
      buildCoverage([api('p', 'a', '@hipaa 164.312(b) implements\n@nist ZZ-1 cprt')], '1'),
    ).toThrow(/ZZ-1/)
    expect(() => buildCoverage([api('p', 'a', '@nist AU-2 cprt')], '1')).toThrow(/without @hipaa/)
  })

  it('the sample OSCAL validates against the official 1.0.6 schema and is deterministic', () => {
    const validate = validator()
    const doc = toOscalComponentDefinition(sample, { lastModified: '2026-11-22T00:00:00Z' })
    const result = validate(doc)
    expect(result.errors).toBe('No errors')
    expect(result.ok).toBe(true)
    expect(JSON.stringify(toOscalComponentDefinition(sample, { lastModified: '2026-11-22T00:00:00Z' }))).toBe(
      JSON.stringify(doc),
    )
    const uuids = JSON.stringify(doc).match(/"uuid":"[^"]+"/g) ?? []
    expect(new Set(uuids).size).toBe(uuids.length)
  })

  it('the schema check is real: a broken document fails', () => {
    const validate = validator()
    const doc = toOscalComponentDefinition(sample, { lastModified: '2026-11-22T00:00:00Z' }) as {
      'component-definition': { uuid: string; metadata: Record<string, unknown> }
    }
    doc['component-definition'].uuid = 'not-a-uuid'
    expect(validate(doc).ok).toBe(false)
    const doc2 = toOscalComponentDefinition(sample, { lastModified: 'yesterday' })
    expect(validate(doc2).ok).toBe(false)
  })

  it('uuidv5 matches RFC 4122 (Python uuid5(NAMESPACE_DNS, "python.org"))', () => {
    expect(uuidv5('python.org', '6ba7b810-9dad-11d1-80b4-00c04fd430c8')).toBe(
      '886313e1-3b8a-5372-9b90-0c9aee199e5d',
    )
  })

  it('renders the matrix as text and Markdown', () => {
    const text = renderMatrix(sample, 'text')
    expect(text).toMatch(
      /164\.312\(a\)\(2\)\(iii\)\s+Automatic logoff\s+A\s+changes proposed \(not in force\)\s+implements/,
    )
    expect(text).toMatch(/citations: 2 implements, 0 supports, \d+ app team only, 1 not applicable\./)
    const md = renderMatrix(sample, 'markdown')
    expect(md.split('\n')[0]).toBe(
      '| citation | title | R/A | proposed rule | coverage | NIST SP 800-53 (provenance) | APIs |',
    )
    expect(md).toContain('| 164.312(d) | Person or entity authentication | Std (R) |')
  })
})

describe('the generated files', () => {
  it('are up to date with the TSDoc tags (the build fails on drift)', () => {
    const r = spawnSync(
      process.execPath,
      ['--conditions=@safeguards/source', '--import', 'tsx', 'tools/generate.ts', '--check'],
      {
        cwd: pkgDir,
        encoding: 'utf8',
      },
    )
    expect(r.stderr).toContain('up to date')
    expect(r.status).toBe(0)
  })

  it('the committed OSCAL validates, matches its sha256, and equals a fresh rendering', () => {
    const text = readFileSync(resolve(pkgDir, 'oscal/component-definition.json'), 'utf8')
    expect(validator()(JSON.parse(text)).errors).toBe('No errors')
    const sha = readFileSync(resolve(pkgDir, 'oscal/component-definition.json.sha256'), 'utf8').split(' ')[0]
    const actual = execFileSync('sha256sum', [resolve(pkgDir, 'oscal/component-definition.json')], {
      encoding: 'utf8',
    })
    expect(actual.split(' ')[0]).toBe(sha)
    const release = JSON.parse(readFileSync(resolve(pkgDir, 'tools/release.json'), 'utf8')) as {
      lastModified: string
    }
    expect(`${JSON.stringify(toOscalComponentDefinition(coverage, release), null, 2)}\n`).toBe(text)
    expect(JSON.parse(readFileSync(resolve(pkgDir, 'coverage.json'), 'utf8'))).toEqual(coverage)
  })

  it('lists every 164.312 specification', () => {
    const ids = coverage.rows.filter((r) => r.citation.startsWith('164.312')).map((r) => r.citation)
    expect(ids).toEqual(hipaaCatalog.filter((c) => c.id.startsWith('164.312')).map((c) => c.id))
  })
})
