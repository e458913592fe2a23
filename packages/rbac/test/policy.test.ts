import { readFileSync } from 'node:fs'
import { resolve } from 'node:path'
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import {
  assertPolicy,
  compilePolicy,
  PolicyError,
  type PolicyProblem,
  parsePolicy,
  parsePolicyText,
} from '../src/index.js'

const clinicText = readFileSync(resolve(import.meta.dirname, 'fixtures/clinic.policy.json'), 'utf8')
const clinic = JSON.parse(clinicText)

const base = () => ({
  version: 1,
  roles: [{ id: 'staff' }, { id: 'nurse', inherits: ['staff'] }],
  rules: [{ id: 'r1', effect: 'allow', roles: ['nurse'], actions: ['read'], resources: ['Observation'] }],
})

function problems(doc: unknown): PolicyProblem[] {
  const r = parsePolicy(doc)
  if (r.ok) throw new Error('expected problems')
  return [...r.problems]
}
const at = (doc: unknown) => problems(doc).map((p) => `${p.path} ${p.code}`)

describe('parsePolicy: accepts', () => {
  it('the clinic policy and a minimal one', () => {
    expect(parsePolicy(clinic).ok).toBe(true)
    expect(parsePolicy(base()).ok).toBe(true)
    expect(assertPolicy(base()).rules[0]?.id).toBe('r1')
  })

  it('YAML and JSON text of the same document', () => {
    const yaml = `
version: 1
roles:
  - id: staff
  - id: nurse
    inherits: [staff]
rules:
  - id: r1
    effect: allow
    roles: [nurse]
    actions: [read]
    resources: [Observation]
    when: { relation: careTeam }
relationships: [careTeam]
`
    const y = parsePolicyText(yaml)
    expect(y.ok).toBe(true)
    const j = parsePolicyText(JSON.stringify(y.ok ? y.policy : null), 'json')
    expect(j).toEqual(y)
    expect(parsePolicyText(clinicText).ok).toBe(true)
  })
})

describe('parsePolicy: rejects with JSON paths', () => {
  it('unknown keys at every level, including inside conditions', () => {
    const doc = base() as Record<string, unknown>
    doc.extra = 1
    ;(doc.roles as Record<string, unknown>[])[0]!.admin = true
    ;(doc.rules as Record<string, unknown>[])[0]!.priority = 1
    ;(doc.rules as Record<string, unknown>[])[0]!.when = { eq: [{ ref: 'context.x', as: 'y' }, 1] }
    expect(at(doc)).toEqual([
      '/extra unknown_key',
      '/roles/0/admin unknown_key',
      '/rules/0/priority unknown_key',
      '/rules/0/when/eq/0/as unknown_key',
    ])
  })

  it('a wrong-case effect ("Deny", "ALLOW") and a missing effect', () => {
    for (const effect of ['Deny', 'ALLOW', 'permit', '', null, 1]) {
      const doc = base()
      ;(doc.rules[0] as Record<string, unknown>).effect = effect
      expect(at(doc)).toEqual(['/rules/0/effect invalid_value'])
    }
    const missing = base()
    delete (missing.rules[0] as Record<string, unknown>).effect
    expect(at(missing)).toEqual(['/rules/0/effect invalid_value'])
  })

  it('dangling references: roles, inherits, declared actions/types/tenants, relationships, emergency access', () => {
    const doc = {
      version: 1,
      tenants: ['t1'],
      actions: ['read'],
      resourceTypes: ['Observation'],
      roles: [{ id: 'nurse', inherits: ['ghost'], tenants: ['t9'] }],
      rules: [
        {
          id: 'r1',
          effect: 'allow',
          roles: ['doctor'],
          actions: ['write'],
          resources: ['Claim'],
          tenants: ['t2'],
          when: { relation: 'careTeam' },
        },
      ],
      emergencyAccess: { roles: ['medic'], actions: ['read'], resources: ['Patient'], reasonCodes: ['er'] },
      smartActions: { export: 'r' },
    }
    expect(at(doc)).toEqual([
      '/emergencyAccess/resources/0 dangling_reference',
      '/emergencyAccess/roles/0 dangling_reference',
      '/roles/0/inherits/0 dangling_reference',
      '/roles/0/tenants/0 dangling_reference',
      '/rules/0/actions/0 dangling_reference',
      '/rules/0/resources/0 dangling_reference',
      '/rules/0/roles/0 dangling_reference',
      '/rules/0/tenants/0 dangling_reference',
      '/rules/0/when/relation dangling_reference',
      '/smartActions/export dangling_reference',
    ])
  })

  it('duplicate ids and duplicate entries', () => {
    const doc = base()
    doc.roles.push({ id: 'staff' })
    doc.rules.push({ ...doc.rules[0]!, roles: ['nurse', 'nurse'] })
    expect(at(doc)).toEqual([
      '/roles/2/id duplicate_id',
      '/rules/1/id duplicate_id',
      '/rules/1/roles/1 duplicate_entry',
    ])
    expect(problems(doc)[0]?.message).toContain('first at /roles/0')
  })

  it.each([
    '__proto__',
    'constructor',
    'prototype',
    'toString',
    'a,b',
    'a b',
    ' nurse',
    'nurse\n',
    'nu\u0000rse',
    '',
    '1nurse',
    'x'.repeat(65),
    'nurse*',
    'n\u0435rse', // Cyrillic e
  ])('rejects the id %j', (id) => {
    const doc = base()
    doc.roles[0] = { id }
    const codes = problems(doc).filter((p) => p.path === '/roles/0/id')
    expect(codes.length).toBeGreaterThan(0)
  })

  it('"*" only as an explicit token, alone, and only where allowed', () => {
    const doc = base()
    doc.rules[0] = { ...doc.rules[0]!, actions: ['*', 'read'] }
    expect(at(doc)).toEqual(['/rules/0/actions/0 wildcard_not_alone'])
    doc.rules[0] = { ...doc.rules[0]!, actions: ['read'], resources: ['Obs*'] }
    expect(at(doc)).toEqual(['/rules/0/resources/0 invalid_format'])
    const d2 = base()
    d2.roles[0] = { id: '*' }
    expect(at(d2)).toContain('/roles/0/id invalid_format')
    const d3 = {
      ...base(),
      emergencyAccess: { roles: ['*'], actions: ['*'], resources: ['*'], reasonCodes: ['er'] },
    }
    expect(at(d3)).toEqual([
      '/emergencyAccess/actions/0 invalid_format',
      '/emergencyAccess/resources/0 invalid_format',
      '/emergencyAccess/roles/0 invalid_format',
    ])
    const d4 = base()
    d4.rules[0] = { ...d4.rules[0]!, tenants: ['*'], subjectTenants: ['*'] } as (typeof d4.rules)[0]
    expect(at(d4)).toEqual(['/rules/0/subjectTenants/0 invalid_format', '/rules/0/tenants/0 invalid_format'])
  })

  it('an inheritance cycle names its path', () => {
    const doc = {
      version: 1,
      roles: [
        { id: 'staff' },
        { id: 'nurse', inherits: ['staff', 'charge_nurse'] },
        { id: 'charge_nurse', inherits: ['nurse'] },
        { id: 'self', inherits: ['self'] },
      ],
      rules: [],
    }
    const ps = problems(doc)
    expect(ps.map((p) => [p.path, p.code, p.message])).toEqual([
      ['/roles/1/inherits/1', 'role_cycle', 'role inheritance cycle: nurse → charge_nurse → nurse'],
      ['/roles/3/inherits/0', 'role_cycle', 'role inheritance cycle: self → self'],
    ])
    expect(() => compilePolicy(doc)).toThrow(PolicyError)
    try {
      compilePolicy(doc)
    } catch (e) {
      expect((e as PolicyError).code).toBe('ERR_RBAC_POLICY_INVALID')
      expect((e as PolicyError).message).toContain('nurse → charge_nurse → nurse')
    }
  })

  it('inheritance deeper than 32 levels, and a 1000-role chain does not overflow the stack', () => {
    const chain = (n: number) => ({
      version: 1,
      roles: Array.from({ length: n }, (_, i) => ({
        id: `r${i}`,
        ...(i > 0 ? { inherits: [`r${i - 1}`] } : {}),
      })),
      rules: [],
    })
    expect(parsePolicy(chain(33)).ok).toBe(true)
    expect(at(chain(34))).toEqual(['/roles too_deep'])
    expect(at(chain(1000))).toEqual(['/roles too_deep'])
    const cyclic = chain(1000)
    cyclic.roles[0] = { id: 'r0', inherits: ['r999'] }
    expect(problems(cyclic)[0]?.code).toBe('role_cycle')
  })

  it('malformed conditions: operators, arity, attribute paths, depth, size', () => {
    const withWhen = (when: unknown) => {
      const doc = { ...base(), relationships: ['careTeam'] }
      ;(doc.rules[0] as Record<string, unknown>).when = when
      return doc
    }
    expect(at(withWhen({ eval: 'true' }))).toEqual(['/rules/0/when/eval unknown_key'])
    expect(at(withWhen({ eq: [1, 2], ne: [1, 2] }))).toEqual(['/rules/0/when invalid_condition'])
    expect(at(withWhen({ eq: [1] }))).toEqual(['/rules/0/when/eq too_small'])
    expect(at(withWhen({ all: [] }))).toEqual(['/rules/0/when/all invalid_type'])
    expect(at(withWhen({ exists: 'subject.__proto__.x' }))).toEqual(['/rules/0/when/exists custom'])
    expect(at(withWhen({ exists: 'subject.password' }))).toEqual(['/rules/0/when/exists invalid_attribute'])
    expect(at(withWhen({ eq: [{ ref: 'env.HOME' }, 'x'] }))).toEqual([
      '/rules/0/when/eq/0/ref invalid_attribute',
    ])
    expect(at(withWhen({ timeWindow: { from: '25:00', to: '08:00' } }))).toEqual([
      '/rules/0/when/timeWindow/from invalid_format',
    ])
    let deep: unknown = { exists: 'context.x' }
    for (let i = 0; i < 20; i++) deep = { not: deep }
    expect(at(withWhen(deep))[0]).toMatch(/too_deep$/)
    const wide = {
      all: Array.from({ length: 64 }, () => ({
        all: Array.from({ length: 8 }, () => ({ exists: 'context.x' })),
      })),
    }
    expect(at(withWhen(wide))).toEqual(['/rules/0/when/all/28/all/2 too_big'])
    expect(at(withWhen(null))).toEqual(['/rules/0/when invalid_type'])
  })

  it('values without a canonical JSON form (lone surrogates, huge integers)', () => {
    expect(at({ ...base(), description: 'a\ud800b' })).toEqual(['/description invalid_string'])
    const doc = base()
    ;(doc.rules[0] as Record<string, unknown>).when = { eq: [{ ref: 'context.n' }, 1e30] }
    expect(at(doc)).toEqual(['/rules/0/when/eq/1 invalid_number'])
    expect(() => compilePolicy(doc)).toThrow(PolicyError)
  })

  it('wrong types and a wrong version', () => {
    expect(at(null)).toEqual([' invalid_type'])
    expect(at({ ...base(), version: 2 })).toEqual(['/version invalid_value'])
    expect(at({ ...base(), roles: 'nurse' })).toEqual(['/roles invalid_type'])
  })

  it('malformed text: JSON duplicates, trailing garbage, YAML aliases and duplicate keys', () => {
    const syntax = (text: string, fmt?: 'json' | 'yaml') => {
      const r = parsePolicyText(text, fmt)
      expect(r.ok).toBe(false)
      return r.ok ? '' : `${r.problems[0]?.path}|${r.problems[0]?.code}`
    }
    expect(syntax('{"version":1,"version":1,"roles":[],"rules":[]}')).toBe('|syntax')
    expect(syntax('{"version":1} x')).toBe('|syntax')
    expect(syntax('version: 1\nversion: 1\nroles: []\nrules: []\n')).toBe('|syntax')
    expect(syntax('version: 1\nroles: &r []\nrules: *r\n')).toBe('|syntax')
    expect(syntax('{', 'yaml')).toBe('|syntax')
    expect(syntax('x'.repeat(8 * 1024 * 1024 + 1))).toBe('|syntax')
    expect(() => parsePolicyText(42 as unknown as string)).toThrow(TypeError)
  })

  it('prototype-pollution payloads in the document stay inert and are rejected', () => {
    const payloads = [
      '{"version":1,"roles":[],"rules":[],"__proto__":{"polluted":true}}',
      '{"version":1,"roles":[{"id":"a","__proto__":{"polluted":true}}],"rules":[]}',
      '{"version":1,"roles":[],"rules":[],"constructor":{"prototype":{"polluted":true}}}',
      '{"version":1,"roles":[],"rules":[],"smartActions":{"__proto__":"r"}}',
      'version: 1\nroles: []\nrules: []\n__proto__:\n  polluted: true\n',
    ]
    for (const text of payloads) {
      const r = parsePolicyText(text)
      expect(r.ok, text).toBe(false)
      if (!r.ok) expect(r.problems.map((p) => p.code)).toContain('reserved_key')
      expect(({} as Record<string, unknown>).polluted).toBeUndefined()
      expect(Object.prototype).not.toHaveProperty('polluted')
    }
  })

  it('never throws on arbitrary JSON values (property)', () => {
    fc.assert(
      fc.property(fc.jsonValue(), (v) => {
        const r = parsePolicy(v)
        expect(typeof r.ok).toBe('boolean')
        if (!r.ok) expect(() => compilePolicy(v)).toThrow(PolicyError)
      }),
      { numRuns: 500 },
    )
    fc.assert(
      fc.property(fc.string(), (s) => {
        expect(typeof parsePolicyText(s).ok).toBe('boolean')
      }),
      { numRuns: 500 },
    )
  })

  it('compilePolicy throws nothing but PolicyError, whatever it is given (property)', () => {
    fc.assert(
      fc.property(
        fc.anything({
          withBoxedValues: true,
          withMap: true,
          withSet: true,
          withDate: true,
          withTypedArray: true,
          withSparseArray: true,
        }),
        (v) => {
          expect(() => compilePolicy(v)).toThrow(PolicyError)
        },
      ),
      { numRuns: 300 },
    )
    const withUndefined = { ...base(), description: undefined }
    expect(at(withUndefined)).toContain('/description invalid_type')
    expect(at({ ...base(), id: new String('x') })).toContain('/id invalid_type')
    expect(() => compilePolicy({ ...base(), description: undefined })).toThrow(PolicyError)
  })

  it('never throws on mutated versions of a valid policy (property)', () => {
    const paths: (string | number)[][] = []
    const walk = (v: unknown, p: (string | number)[]) => {
      paths.push(p)
      if (Array.isArray(v))
        v.forEach((x, i) => {
          walk(x, [...p, i])
        })
      else if (v && typeof v === 'object') for (const [k, x] of Object.entries(v)) walk(x, [...p, k])
    }
    walk(clinic, [])
    fc.assert(
      fc.property(fc.constantFrom(...paths), fc.jsonValue(), (path, value) => {
        const doc = structuredClone(clinic)
        if (path.length === 0) return
        let cur = doc
        for (const seg of path.slice(0, -1)) cur = cur[seg]
        cur[path.at(-1) as string] = value
        const r = parsePolicy(doc)
        if (!r.ok) for (const p of r.problems) expect(p.path.startsWith('/') || p.path === '').toBe(true)
        // A document that validates always compiles; one that does not throws PolicyError only.
        if (r.ok) expect(() => compilePolicy(doc)).not.toThrow()
        else expect(() => compilePolicy(doc)).toThrow(PolicyError)
      }),
      { numRuns: 500 },
    )
  })
})
