/** Record keys in memory (a keyring, per-patient keys in a memory store), for tests of `records.ts`. */
import {
  createEnvelope,
  createSubjectEnvelope,
  createSubjectKeys,
  LocalKeyring,
  memorySubjectKeyStore,
} from '@safeguards/envelope'
import type { RecordKeys } from '../src/records.js'

export async function memoryRecordKeys(): Promise<RecordKeys> {
  const keyring = await LocalKeyring.inMemory()
  const keys = createSubjectKeys({ kek: keyring, store: memorySubjectKeyStore() })
  return {
    subjects: createSubjectEnvelope({ subjects: keys }),
    keys,
    reader: createEnvelope({ providers: [keys.provider, keyring] }),
    legacy: { envelope: createEnvelope({ provider: keyring }), providerId: keyring.id },
  }
}
