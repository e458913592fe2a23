export type { NewPatient, PatientStore, SsnLookup } from './patients.js'
export {
  createPatientTable,
  createSsnIndex,
  findPatientsBySsn,
  insertPatients,
  reindexPatients,
  ssnContext,
} from './patients.js'
