import { defineConfig } from 'tsup'
import { base } from '../../tsup.config.base.ts'

// Two entries share the error classes: splitting puts shared code in one chunk, so an error thrown
// through `@safeguards/core/node` is an instance of the class exported by `@safeguards/core`.
export default defineConfig({
  ...base,
  entry: { index: 'src/index.ts', 'node/index': 'src/node/index.ts' },
  splitting: true,
})
