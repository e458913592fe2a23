import { execFileSync, spawnSync } from 'node:child_process'
import { existsSync, readdirSync, readFileSync } from 'node:fs'
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
  mappingSource,
  nistControls,
  nistOscalId,
  nistOwnControls,
  nistPairsSource,
  OSCAL_PAIR_CLASS,
  parseControlTags,
  renderMatrix,
  toOscalComponentDefinition,
} from '../src/index.js'
import { uuidv5 } from '../src/internal/uuid.js'
import {
  extractBlock,
  HIPAA_BEGIN,
  HIPAA_END,
  PACKAGES_BEGIN,
  PACKAGES_END,
  renderPackageHipaa,
  rewriteRootTable,
} from '../tools/readme.js'

const pkgDir = resolve(import.meta.dirname, '..')
const root = resolve(pkgDir, '../..')
const schemaPath = resolve(root, '../shared/vectors/oscal/oscal_component_schema-1.0.6.json')
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
  it('has the 46 implementation specifications of 164.308–164.316: 24 Required, 22 Addressable', () => {
    expect(specs).toHaveLength(46)
    expect(specs.filter((c) => c.designation === 'required')).toHaveLength(24)
    expect(specs.filter((c) => c.designation === 'addressable')).toHaveLength(22)
    const per = (s: string, d: string): number =>
      specs.filter((c) => c.id.startsWith(s) && c.designation === d).length
    expect([per('164.308', 'required'), per('164.308', 'addressable')]).toEqual([10, 11])
    expect([per('164.310', 'required'), per('164.310', 'addressable')]).toEqual([2, 6])
    expect([per('164.312', 'required'), per('164.312', 'addressable')]).toEqual([2, 5])
    expect([per('164.314', 'required'), per('164.314', 'addressable')]).toEqual([7, 0])
    expect([per('164.316', 'required'), per('164.316', 'addressable')]).toEqual([3, 0])
  })

  it('covers 164.314: business associate contracts and group health plans, all Required', () => {
    const ids = hipaaCatalog.filter((c) => c.id.startsWith('164.314')).map((c) => [c.id, c.designation])
    expect(ids).toEqual([
      ['164.314(a)(1)', 'standard'],
      ['164.314(a)(2)(i)', 'required'],
      ['164.314(a)(2)(ii)', 'required'],
      ['164.314(a)(2)(iii)', 'required'],
      ['164.314(b)(1)', 'standard'],
      ['164.314(b)(2)(i)', 'required'],
      ['164.314(b)(2)(ii)', 'required'],
      ['164.314(b)(2)(iii)', 'required'],
      ['164.314(b)(2)(iv)', 'required'],
    ])
    expect(findCitation('164.314(a)(2)(i)')?.title).toBe('Business associate contracts')
    expect(findCitation('164.314(a)(2)(iii)')?.title).toBe('Business associate contracts with subcontractors')
    // (b)(2)(i)–(iv) are items of "Implementation specifications (Required)" with no heading of their own.
    for (const id of ['164.314(b)(2)(i)', '164.314(b)(2)(ii)', '164.314(b)(2)(iii)', '164.314(b)(2)(iv)'])
      expect(findCitation(id)?.untitled, id).toBe(true)
    expect(findCitation('164.314(a)(2)(ii)')?.untitled).toBeUndefined()
  })

  it('labels what has no R/A honestly: 164.308(b)(2) has no heading, 164.502(b) is a Privacy Rule standard', () => {
    expect(findCitation('164.308(b)(2)')).toMatchObject({ designation: 'provision', untitled: true })
    expect(findCitation('164.308(b)(2)')?.title).not.toBe('Business associates and subcontractors')
    expect(findCitation('164.502(b)')).toMatchObject({
      designation: 'privacy-standard',
      safeguard: 'privacy',
    })
    expect(renderMatrix(coverage, 'markdown')).toMatch(
      /\| 164\.502\(b\) \| Minimum necessary \| Privacy Rule std \(no R\/A\) \|/,
    )
    expect(renderMatrix(coverage, 'markdown')).toMatch(
      /\| 164\.308\(b\)\(2\) \| \[no heading\] .* \| no R\/A \(provision\) \|/,
    )
  })

  it('does not pin audit-log retention to 164.316(b)(2)(i)', () => {
    expect(findCitation('164.316(b)(2)(i)')?.appResponsibility).not.toMatch(/set log retention accordingly/)
    expect(findCitation('164.316(b)(2)(i)')?.appResponsibility).toMatch(/no retention period for audit logs/)
    const row = coverage.rows.find((r) => r.citation === '164.316(b)(2)(i)')
    expect(row?.apis).toEqual([])
  })

  it('ids are unique, standards exist, and every specification names its standard', () => {
    expect(new Set(hipaaCatalog.map((c) => c.id)).size).toBe(hipaaCatalog.length)
    for (const c of specs) {
      expect(c.standard, c.id).toBeDefined()
      expect(findCitation(c.standard as string)?.designation, c.id).toBe('standard')
    }
    expect(findCitation('164.312(a)(2)(iii)')?.title).toBe('Automatic logoff')
    expect(findCitation('164.312(b)')?.designation).toBe('standard-required')
    expect(findCitation('164.308(b)(2)')?.standard).toBe('164.308(b)(1)')
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
     * @nist AC-12 164.312(a)(2)(iii)
     * @nist AC-12(1) 164.312(a)(2)(iii): logout ends
     *   every session on demand
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
        { control: 'AC-12', citation: '164.312(a)(2)(iii)', rationale: null },
        {
          control: 'AC-12(1)',
          citation: '164.312(a)(2)(iii)',
          rationale: 'logout ends every session on demand',
        },
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
    '@nist AC-12 cprt',
    '@nist AC-12 engineering',
    '@nist ac-12 164.312(b)',
    '@nist AC-12 164.312',
    '@nist AC-12 164.312(b):',
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
        '@hipaa 164.312(a)(2)(iii) implements\n@nist AC-12 164.312(a)(2)(iii)\n@appResponsibility Pick timeouts.',
      ),
      api(
        '@safeguards/session',
        'requireRecentAuth',
        '@hipaa 164.312(d) supports\n@nist IA-11 164.312(d): step-up proves identity again',
      ),
      api(
        '@safeguards/mfa',
        'createTotpVerifier',
        '@hipaa 164.312(d) implements\n@nist IA-2(8) 164.312(d): replayed codes are refused\n@nist IA-2 164.312(d)',
      ),
    ],
    '9.9.9',
  )

  it("aggregates per citation; provenance comes from NIST's table per pair, never from the tag", () => {
    const row = (id: string) => sample.rows.find((r) => r.citation === id)
    expect(row('164.312(a)(2)(iii)')?.coverage).toBe('implements')
    expect(row('164.312(d)')?.coverage).toBe('implements')
    expect(row('164.312(d)')?.apis.map((a) => a.api)).toEqual(['createTotpVerifier', 'requireRecentAuth'])
    expect(row('164.312(d)')?.nist).toEqual([
      {
        control: 'IA-2',
        title: 'Identification and Authentication (Organizational Users)',
        source: 'cprt',
        rationale: [],
        apis: ['mfa.createTotpVerifier'],
      },
      {
        control: 'IA-2(8)',
        title: 'Access to Accounts — Replay Resistant',
        source: 'engineering',
        rationale: ['replayed codes are refused'],
        apis: ['mfa.createTotpVerifier'],
      },
      {
        control: 'IA-11',
        title: 'Re-authentication',
        source: 'engineering',
        rationale: ['step-up proves identity again'],
        apis: ['session.requireRecentAuth'],
      },
    ])
    expect(row('164.312(a)(2)(iii)')?.nist.map((n) => [n.control, n.source])).toEqual([['AC-12', 'cprt']])
    expect(row('164.312(a)(2)(iii)')?.nistReference).toEqual(['AC-12'])
    expect(row('164.308(a)(4)(ii)(A)')?.coverage).toBe('not-applicable')
    expect(row('164.308(a)(1)(ii)(A)')?.coverage).toBe('app-team')
    expect(row('164.312(a)(2)(iii)')?.appResponsibility).toContain('Pick timeouts.')
    expect(sample.rows).toHaveLength(hipaaCatalog.length)
  })

  it('rejects unknown citations and controls', () => {
    expect(() => buildCoverage([api('p', 'a', '@hipaa 164.312(z) implements')], '1')).toThrow(CoverageError)
    expect(() =>
      buildCoverage([api('p', 'a', '@hipaa 164.312(b) implements\n@nist ZZ-1 164.312(b): x')], '1'),
    ).toThrow(/ZZ-1/)
    expect(() => buildCoverage([api('p', 'a', '@nist AU-2 164.312(b)')], '1')).toThrow(/without @hipaa/)
  })

  it('a pair NIST never made needs a rationale (the old createEnvelope: disposal → SC-13)', () => {
    expect(mappingSource('164.310(d)(2)(i)', 'SC-13')).toBe('engineering')
    expect(mappingSource('164.312(a)(2)(iv)', 'SC-13')).toBe('cprt')
    const envelope = '@hipaa 164.312(a)(2)(iv) implements\n@hipaa 164.310(d)(2)(i) supports'
    expect(() => buildCoverage([api('p', 'a', `${envelope}\n@nist SC-13 164.310(d)(2)(i)`)], '1')).toThrow(
      /SC-13 164\.310\(d\)\(2\)\(i\) is not in NIST's own mapping/,
    )
    const ok = buildCoverage([api('p', 'a', `${envelope}\n@nist SC-13 164.312(a)(2)(iv)`)], '1')
    expect(ok.rows.find((r) => r.citation === '164.310(d)(2)(i)')?.nist).toEqual([])
    expect(ok.rows.find((r) => r.citation === '164.312(a)(2)(iv)')?.nist[0]?.source).toBe('cprt')
    // a pair may only name a paragraph the API itself claims
    expect(() => buildCoverage([api('p', 'a', `${envelope}\n@nist AU-2 164.312(b)`)], '1')).toThrow(
      /names 164\.312\(b\), which has no @hipaa tag here/,
    )
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
    expect(text).toMatch(
      /164\.312\(d\)\s+Person or entity authentication\s+Std \(R\)\s+.*IA-2 \(NIST\), IA-2\(8\) \(ours\)/,
    )
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

describe("NIST's own mapping (data/nist-sp800-66r2.json)", () => {
  const data = JSON.parse(readFileSync(resolve(pkgDir, 'data/nist-sp800-66r2.json'), 'utf8')) as {
    format: string
    source: Record<string, string>
    pairs: Record<string, string[]>
    elements: { paragraph: string; standard: string; kind: string; controls: string[] }[]
  }

  it('records its source and covers every paragraph of the catalog, in catalog order', () => {
    expect(data.format).toBe('safeguards.nist-hipaa-pairs/v1')
    expect(data.source.export).toBe('cprt_SP800_66_2_0_0_04-05-2024.xlsx')
    expect(data.source.url).toMatch(/^https:\/\/csrc\.nist\.gov\/.*SP800_66_2_0_0/)
    expect(nistPairsSource.exportDate).toBe('2024-04-05')
    expect(Object.keys(data.pairs)).toEqual(hipaaCatalog.map((c) => c.id))
  })

  it('each paragraph’s pairs are the union of its CPRT elements, and every control is catalogued', () => {
    for (const [paragraph, controls] of Object.entries(data.pairs)) {
      const union = new Set(data.elements.filter((e) => e.paragraph === paragraph).flatMap((e) => e.controls))
      expect([...union].sort(), paragraph).toEqual([...controls].sort())
      for (const c of controls) expect(nistControls[c], c).toBeDefined()
    }
    for (const e of data.elements) {
      expect(findCitation(e.paragraph), e.paragraph).toBeDefined()
      expect(['implementation-specification', 'key-activity']).toContain(e.kind)
      if (e.kind === 'key-activity') expect(e.paragraph).toBe(e.standard)
    }
    expect(data.elements.filter((e) => e.kind === 'implementation-specification')).toHaveLength(48)
  })

  it('holds the pairs NIST made and not those it never made', () => {
    expect(nistOwnControls('164.310(d)(2)(i)')).toEqual(['MP-6'])
    expect(nistOwnControls('164.316(b)(2)(i)')).toEqual(['SI-12'])
    expect(nistOwnControls('164.312(d)')).not.toContain('AT-2')
    expect(nistOwnControls('164.308(a)(7)(ii)(A)')).not.toContain('CP-4')
    expect(nistOwnControls('164.308(a)(7)(ii)(D)')).toContain('CP-4')
    expect(nistOwnControls('164.312(a)(2)(iii)')).toEqual(['AC-12'])
    expect(nistOwnControls('164.502(b)')).toEqual([])
  })
})

describe('the published OSCAL labels provenance per pair', () => {
  type Prop = { name: string; value: string; class?: string; remarks?: string }
  type Req = { 'control-id': string; props: Prop[] }
  const oscal = JSON.parse(readFileSync(resolve(pkgDir, 'oscal/component-definition.json'), 'utf8')) as {
    'component-definition': {
      components: {
        title: string
        'control-implementations': { source: string; 'implemented-requirements': Req[] }[]
      }[]
    }
  }
  const toNist = (oscalId: string): string => {
    const m = /^([a-z]{2})-(\d+)(?:\.(\d+))?$/.exec(oscalId) as RegExpExecArray
    return `${(m[1] as string).toUpperCase()}-${m[2]}${m[3] ? `(${m[3]})` : ''}`
  }
  const pairs: {
    citation: string
    control: string
    label: string | undefined
    remarks: string
    where: string
  }[] = []
  const nistRequirements: Req[] = []
  for (const comp of oscal['component-definition'].components) {
    for (const ci of comp['control-implementations']) {
      for (const req of ci['implemented-requirements']) {
        const where = `${comp.title} ${req['control-id']}`
        if (ci.source.startsWith('#')) {
          const citation = (req.props.find((p) => p.name === 'cfr-citation')?.value ?? '').replace(
            '45 CFR ',
            '',
          )
          for (const p of req.props.filter((p) => p.name === 'nist-800-53-pair'))
            pairs.push({ citation, control: p.value, label: p.class, remarks: p.remarks ?? '', where })
        } else {
          nistRequirements.push(req)
          for (const p of req.props.filter((p) => p.name === 'hipaa-pair'))
            pairs.push({
              citation: p.value,
              control: toNist(req['control-id']),
              label: p.class,
              remarks: p.remarks ?? '',
              where,
            })
        }
      }
    }
  }

  it('every SP 800-53 requirement names the HIPAA paragraphs it is claimed for', () => {
    expect(nistRequirements.length).toBeGreaterThan(0)
    for (const req of nistRequirements)
      expect(req.props.filter((p) => p.name === 'hipaa-pair').length, req['control-id']).toBeGreaterThan(0)
  })

  it("fails on any pair labelled NIST's own that is not in the recorded NIST table", () => {
    expect(pairs.length).toBeGreaterThan(0)
    for (const p of pairs) {
      expect([OSCAL_PAIR_CLASS.cprt, OSCAL_PAIR_CLASS.engineering], p.where).toContain(p.label)
      if (p.label === OSCAL_PAIR_CLASS.cprt)
        expect(nistOwnControls(p.citation), `${p.where}: ${p.citation} → ${p.control}`).toContain(p.control)
      else {
        expect(nistOwnControls(p.citation), `${p.where}: ${p.citation} → ${p.control}`).not.toContain(
          p.control,
        )
        expect(p.remarks, `${p.where}: rationale`).toMatch(/^Engineering judgement: \S/)
      }
    }
  })

  it('drops the pairs no one can source', () => {
    const has = (citation: string | null, control: string): boolean =>
      pairs.some((p) => p.control === control && (citation === null || p.citation === citation))
    expect(has(null, 'AT-2')).toBe(false) // training is not a password hasher's
    expect(has(null, 'CP-4')).toBe(false) // a backup verifier does not test the contingency plan
    expect(has(null, 'AU-10')).toBe(false) // a server signature is not non-repudiation of a person
    expect(has('164.310(d)(2)(i)', 'SC-13')).toBe(false)
    expect(has('164.310(d)(2)(i)', 'MP-6')).toBe(true)
    expect(has('164.312(b)', 'AU-11')).toBe(true)
  })
})

describe('README and docs HIPAA sections come from the coverage', () => {
  const dirs = readdirSync(resolve(root, 'packages')).filter((d) =>
    existsSync(resolve(root, 'packages', d, 'package.json')),
  )
  const name = (dir: string): string =>
    (JSON.parse(readFileSync(resolve(root, 'packages', dir, 'package.json'), 'utf8')) as { name: string })
      .name
  const pages = dirs.flatMap((dir) => [
    { file: `packages/${dir}/README.md`, pkg: name(dir), heading: '## HIPAA', links: undefined },
    {
      file: `docs/guide/packages/${dir}.md`,
      pkg: name(dir),
      heading: '### HIPAA',
      links: { matrix: '../../compliance/hipaa-matrix.md', pairs: '../../compliance/nist-pairs.md' },
    },
  ])

  it.each(pages)(
    '$file: the committed HIPAA table equals the generated one',
    ({ file, pkg, heading, links }) => {
      const text = readFileSync(resolve(root, file), 'utf8')
      expect(text, `${file} has a ${heading} section`).toContain(`\n${heading}\n`)
      expect(extractBlock(text, HIPAA_BEGIN, HIPAA_END), `${file}: run the controls generator`).toBe(
        renderPackageHipaa(coverage, pkg, links),
      )
      // Outside the generated block, the section makes no coverage claim of its own.
      const section = text.slice(text.indexOf(`\n${heading}\n`) + 1)
      const end = section.slice(heading.length).search(new RegExp(`\\n#{1,${heading.indexOf(' ')}} `))
      const prose = (end < 0 ? section : section.slice(0, end + heading.length)).replace(
        extractBlock(text, HIPAA_BEGIN, HIPAA_END) as string,
        '',
      )
      expect(prose, file).not.toMatch(/\b(implements|supports|implemented)\b/)
    },
  )

  it('a table that disagrees with the matrix is caught', () => {
    const readme = readFileSync(resolve(root, 'packages/rbac/README.md'), 'utf8')
    const tampered = readme.replace('| supports | `compilePolicy`', '| implements | `compilePolicy`')
    expect(tampered).not.toBe(readme)
    expect(extractBlock(tampered, HIPAA_BEGIN, HIPAA_END)).not.toBe(
      renderPackageHipaa(coverage, '@safeguards/rbac'),
    )
  })

  it("the root README's HIPAA column equals the generated one", () => {
    const readme = readFileSync(resolve(root, 'README.md'), 'utf8')
    expect(extractBlock(readme, PACKAGES_BEGIN, PACKAGES_END)).not.toBeNull()
    expect(rewriteRootTable(readme, coverage)).toBe(readme)
    expect(readme).toContain('| implements 164.312(a)(2)(iii); supports')
  })
})
