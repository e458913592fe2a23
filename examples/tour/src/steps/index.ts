import type { TourStep } from '../step.js'
import { coreStep } from './core.js'
import { envelopeStep } from './envelope.js'
import { pkcs11Step } from './pkcs11.js'

/** The tour, in order. Each package issue adds its step here. */
export const steps: readonly TourStep[] = [coreStep, envelopeStep, pkcs11Step]
