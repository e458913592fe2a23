import { describe, expect, it } from 'vitest'
import {
  createMemoryStore,
  createSessionManager,
  SessionConfigError,
  type SessionStore,
} from '../src/index.js'
import { schema, sessionDataContract } from './data-contract.js'

sessionDataContract('memory', () => createMemoryStore())

describe('session data options', () => {
  it('refuses a schema that is not a Standard Schema, a cap out of range, and a store without update', () => {
    expect(() => createSessionManager({ data: { schema: {} as never } })).toThrow(SessionConfigError)
    expect(() => createSessionManager({ data: { schema, maxBytes: 1 } })).toThrow(SessionConfigError)
    expect(() => createSessionManager({ data: { schema, maxBytes: 70_000 } })).toThrow(SessionConfigError)
    const legacy: SessionStore = { ...({} as SessionStore) }
    expect(() =>
      createSessionManager({ store: { ...legacy, touch: () => ({ status: 'unknown' }) }, data: { schema } }),
    ).toThrow(SessionConfigError)
  })
})
