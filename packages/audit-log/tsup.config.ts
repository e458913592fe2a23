import { defineConfig } from 'tsup'
import { base } from '../../tsup.config.base.ts'

// The verifier's worker thread is its own entry: verify-pool.ts starts dist/internal/verify-worker.js.
export default defineConfig({ ...base, entry: ['src/index.ts', 'src/internal/verify-worker.ts'] })
