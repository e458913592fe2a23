import { join } from 'node:path'
import { openFileStore } from '../src/index.js'
import { tempDir } from './helpers.js'
import { describeStoreConformance } from './store-conformance.js'

describeStoreConformance('file store', () =>
  openFileStore({ dir: join(tempDir(), 'log'), stream: 'conformance' }),
)
