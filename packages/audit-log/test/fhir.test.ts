import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { Ajv } from 'ajv'
import draft6 from 'ajv/dist/refs/json-schema-draft-06.json' with { type: 'json' }
import { beforeAll, describe, expect, it } from 'vitest'
import {
  type AuditEvent,
  checkFhirAuditEvent,
  encodeRecord,
  type FhirAuditEvent,
  fhirBundle,
  openAuditLog,
  openFileStore,
  storedToFhir,
  validateEvent,
} from '../src/index.js'
import { event, tempDir } from './helpers.js'

const SCHEMA = join(import.meta.dirname, 'vectors/fhir/fhir.schema.v4.json')

const DCM = 'http://dicom.nema.org/resources/ontology/DCM'
const HL7 = 'http://terminology.hl7.org/CodeSystem'

/** The FHIR export of `event` as record `seq` of `stream`. */
function fhirOf(event: AuditEvent, stream = 'fhir-test', seq = 0): FhirAuditEvent {
  const bytes = encodeRecord({
    v: 1,
    stream,
    seq,
    prev: '0'.repeat(64),
    recorded: '2026-01-01T00:00:00.000Z',
    event: validateEvent(event),
  })
  return storedToFhir({ seq, bytes })
}

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

  it('codes DICOM event IDs, event type codes and role codes under the DICOM system, each where it belongs', () => {
    const cases: [Partial<AuditEvent>, Record<string, unknown>][] = [
      // a login: event ID 110114 User Authentication, event type code 110122 Login (DICOM CID 400/401)
      [
        { type: '110114', subtype: ['110122'] },
        { type: { system: DCM, code: '110114' }, subtype: [{ system: DCM, code: '110122' }] },
      ],
      [
        { type: '110112', subtype: ['110120'] },
        { type: { system: DCM, code: '110112' }, subtype: [{ system: DCM, code: '110120' }] },
      ],
      [
        { type: 'rest', subtype: ['read', '110122'] },
        {
          type: { system: `${HL7}/audit-event-type`, code: 'rest' },
          subtype: [
            { system: 'http://hl7.org/fhir/restful-interaction', code: 'read' },
            { system: DCM, code: '110122' },
          ],
        },
      ],
    ]
    for (const [extra, expected] of cases) expect(fhirOf(event(1, extra))).toMatchObject(expected)
    // 110150 "Application" is a participant role (DICOM CID 402): never an event type
    const role = fhirOf(event(1, { type: '110150', subtype: ['110150'] }))
    expect(JSON.stringify(role.type)).not.toContain(DCM)
    expect(JSON.stringify(role.subtype)).not.toContain(DCM)
    // ... but it is an agent type (FHIR R4 participation-role-type includes DICOM 110150..110155)
    const agent = fhirOf(event(1, { agents: [{ who: 'Device/7', requestor: false, type: '110153' }] }))
    expect(agent.agent).toEqual([
      expect.objectContaining({ type: { coding: [{ system: DCM, code: '110153' }] } }),
    ])
    // no code of another system is passed off as DICOM or as a FHIR restful interaction
    const made = fhirOf(event(1, { type: '110199', subtype: ['110199', 'readx'] }))
    expect(JSON.stringify([made.type, made.subtype])).not.toMatch(/dicom|restful-interaction/)
    for (const r of [role, agent, made]) expect(validate(r), JSON.stringify(errors())).toBe(true)
  })

  it('gives every record its own resource id and Bundle entries urn:uuid full URLs', () => {
    const a = fhirOf(event(1), 'ehr_prod', 0)
    const b = fhirOf(event(1), 'ehr-prod', 0)
    const c = fhirOf(event(1), 'ehr-prod', 1)
    const ids = [a.id, b.id, c.id]
    expect(new Set(ids).size).toBe(3)
    for (const id of ids)
      expect(id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-8[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/)
    expect(fhirOf(event(2), 'ehr_prod', 0).id).toBe(a.id) // stable: the same record exports the same id
    const bundle = fhirBundle([a, b, c], '2026-01-01T00:00:00.000Z') as { entry: { fullUrl: string }[] }
    expect(bundle.entry.map((e) => e.fullUrl)).toEqual(ids.map((id) => `urn:uuid:${id}`))
    expect(validate(bundle), JSON.stringify(errors())).toBe(true)
    // a resource made elsewhere with another kind of id still gets a urn:uuid, one per id
    const other = { ...a, id: 'local-7' }
    const urls = (
      fhirBundle([other, { ...other, id: 'local-8' }], '2026-01-01T00:00:00.000Z') as {
        entry: { fullUrl: string }[]
      }
    ).entry.map((e) => e.fullUrl)
    for (const u of urls)
      expect(u).toMatch(/^urn:uuid:[0-9a-f]{8}-[0-9a-f]{4}-8[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/)
    expect(urls[0]).not.toBe(urls[1])
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
