import type { Options } from 'tsup'

/**
 * Shared tsup options: ESM only, ES2022, declarations, source maps. Each package's
 * `tsup.config.ts` spreads this and names its public entry points.
 */
export const base: Options = {
  format: ['esm'],
  target: 'es2022',
  platform: 'neutral',
  dts: { compilerOptions: { customConditions: [] } },
  sourcemap: true,
  clean: true,
  splitting: false,
  treeshake: true,
  tsconfig: 'tsconfig.json',
  // Keep `node:` specifiers as written (tsup strips them by default; Deno and Bun need them).
  removeNodeProtocol: false,
  external: [/^node:/],
}
