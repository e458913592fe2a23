/** Registers bench/overhead.ts with scripts/bench/run.ts (which runs bench/*.bench.ts). */
export { default } from './overhead.ts'
