import { defineConfig } from 'tsup'
import { base } from '../../tsup.config.base.ts'

export default defineConfig({ ...base, entry: ['src/index.ts'] })
