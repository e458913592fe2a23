import type { TourStep } from '../step.js'
import { accessStep } from './access.js'
import { auditLogStep } from './audit-log.js'
import { coreStep } from './core.js'
import { envelopeStep } from './envelope.js'
import { loginStep } from './login.js'
import { pkcs11Step } from './pkcs11.js'
import { sessionStep } from './session.js'

/** The tour, in order. Each package issue adds its step here. */
export const steps: readonly TourStep[] = [
  coreStep,
  envelopeStep,
  pkcs11Step,
  auditLogStep,
  accessStep,
  sessionStep,
  loginStep,
]
