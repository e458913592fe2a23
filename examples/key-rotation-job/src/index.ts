export type { EncryptedRow, RotationJobOptions, RotationReport, RowTable } from './job.js'
export { memoryTable, runRotationJob } from './job.js'
