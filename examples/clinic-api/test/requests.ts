/** Request bodies the clinic tests share. */

/** A nurse's 30-minute emergency-access request for p-2 (not on the nurse's care team). */
export const nurseEmergencyRequest = {
  patient: 'p-2',
  reasonCode: 'clinical-emergency',
  justification: 'Patient collapsed in the waiting room; not yet on a care team.',
  minutes: 30,
} as const
