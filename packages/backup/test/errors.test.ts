import { isSafeguardsError, SafeguardsError } from '@safeguards/core'
import { describe, expect, it } from 'vitest'
import * as backup from '../src/index.js'

describe('backup errors', () => {
  it.each([
    [backup.BackupKeyError, 'ERR_BACKUP_KEY', 'invalid-argument'],
    [backup.BackupSourceError, 'ERR_BACKUP_SOURCE', 'io'],
    [backup.BackupDestinationError, 'ERR_BACKUP_DESTINATION', 'io'],
    [backup.BackupAttestationError, 'ERR_BACKUP_ATTESTATION', 'integrity'],
    [backup.BackupStateError, 'ERR_BACKUP_STATE', 'invalid-input'],
    [backup.BackupAlertError, 'ERR_BACKUP_ALERT', 'unavailable'],
  ] as const)(
    '%o keeps its code and category, its name, the message and the cause',
    (Class, code, category) => {
      const cause = new Error('underlying')
      const e = new Class('safe message', { cause })
      expect(e).toBeInstanceOf(backup.BackupError)
      expect(e).toBeInstanceOf(SafeguardsError)
      expect(isSafeguardsError(e, code)).toBe(true)
      expect({
        name: e.name,
        code: e.code,
        category: e.category,
        message: e.message,
        cause: e.cause,
      }).toEqual({
        name: Class.name,
        code,
        category,
        message: 'safe message',
        cause,
      })
      expect(e.toJSON()).toEqual({ name: Class.name, code, category, message: 'safe message' })
    },
  )
})
