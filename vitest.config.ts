import { defineConfig } from 'vitest/config'
import { projects } from './vitest.workspace.ts'

const source = ['@safeguards/source']

export default defineConfig({
  resolve: { conditions: source },
  ssr: { resolve: { conditions: source } },
  test: {
    projects,
    testTimeout: 30_000,
    hookTimeout: 60_000,
    // Two cores here and on CI: keep parallelism sane.
    maxWorkers: 2,
    coverage: {
      provider: 'v8',
      include: ['packages/*/src/**/*.ts'],
      exclude: ['**/*.d.ts', 'packages/cli/src/bin.ts'],
      reporter: ['text-summary', 'json-summary'],
      reportsDirectory: '.reports/coverage',
      thresholds: {
        'packages/core/src/**': { lines: 95, functions: 95, statements: 95, branches: 90 },
      },
    },
  },
})
