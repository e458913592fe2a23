import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { Ajv } from 'ajv'
import draft6 from 'ajv/dist/refs/json-schema-draft-06.json' with { type: 'json' }
import { beforeAll, describe, expect, it } from 'vitest'
import { checkFhirAuditEvent, fhirBundle, openAuditLog, openFileStore, storedToFhir } from '../src/index.js'
import { event, tempDir } from './helpers.js'

const SCHEMA = join(import.meta.dirname, 'vectors/fhir/fhir.schema.v4.json')

let validate: (v: unknown) => boolean
let errors: () => unknown

beforeAll(() => {
  const ajv = new Ajv({ strict: false, allErrors: false, validateSchema: false })
  ajv.addMetaSchema(draft6)
  // The vector carries a draft-04 style top-level "id"; Ajv 8 only reads "$id".
  const { id, ...schema } = JSON.parse(readFileSync(SCHEMA, 'utf8'))
  const v = ajv.compile({ ...schema, $id: id })
  validate = (x) => v(x) as boolean
  errors = () => v.errors
}, 120_000)

describe('FHIR R4 AuditEvent export', () => {
  it('exports schema-valid AuditEvents (NDJSON and Bundle), with recorded and requestor', async () => {
    const dir = tempDir()
    const log = await openAuditLog({
      store: await openFileStore({ dir, stream: 'fhir-test' }),
      checkpointEvery: { ms: 0 },
    })
    await log.append(event(1))
    await log.append(
      event(2, {
        type: '110112',
        subtype: ['110120'],
        action: 'E',
        outcome: 8,
        outcomeCode: 'denied',
        occurred: '2026-01-02T03:04:05.678Z',
        agents: [
          {
            who: 'user-7',
            requestor: true,
            type: 'humanuser',
            role: ['nurse'],
            altId: 'ps:k1:abc',
            network: { address: '10.0.0.7', type: '2' },
            purposeOfUse: ['TREAT'],
          },
          { who: 'Device/gw-1', requestor: false },
        ],
        source: { observer: 'Device/ehr-1', site: 'clinic-2', type: ['4'] },
        entities: [
          { what: 'DocumentReference/9', type: '2', role: '3', lifecycle: '6', securityLabel: ['R'] },
        ],
        details: { rows: 12, export: true },
      }),
    )
    await log.close()
    const store = await openFileStore({ dir, readOnly: true })
    const resources = []
    for await (const r of store.read(0)) resources.push(storedToFhir(r))
    expect(resources).toHaveLength(2)
    for (const r of resources) {
      const ok = validate(r)
      expect(ok, JSON.stringify(errors())).toBe(true)
      expect(checkFhirAuditEvent(r)).toEqual([])
    }
    expect(resources[0]).toMatchObject({
      resourceType: 'AuditEvent',
      id: 'fhir-test-0',
      type: { code: 'rest' },
      entity: expect.arrayContaining([
        expect.objectContaining({
          what: { reference: 'Patient/1' },
          role: expect.objectContaining({ code: '1' }),
        }),
      ]),
    })
    const bundle = fhirBundle(resources, '2026-01-01T00:00:00.000Z')
    expect(validate(bundle), JSON.stringify(errors())).toBe(true)
  })

  it('code checks catch what the schema does not', () => {
    const bad = {
      resourceType: 'AuditEvent',
      type: { code: 'rest' },
      agent: [{ who: { reference: 'Patient/1' } }],
      source: { observer: { reference: 'Device/1' } },
    }
    expect(validate(bad)).toBe(true)
    expect(checkFhirAuditEvent(bad)).toEqual([
      'recorded is missing or not an instant',
      'agent[0].requestor is missing',
    ])
    expect(checkFhirAuditEvent({ resourceType: 'Patient' })).toEqual(['not an AuditEvent'])
    expect(checkFhirAuditEvent({ resourceType: 'AuditEvent', recorded: '2026-01-01T00:00:00Z' })).toEqual([
      'agent is missing',
    ])
  })
})
