import { defineConfig } from 'tsup'
import { base } from '../../tsup.config.base.ts'

export default defineConfig({
  ...base,
  platform: 'node',
  entry: ['src/index.ts', 'src/bin.ts'],
  splitting: true,
})
