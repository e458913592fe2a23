import type { TourStep } from '../step.js'
import { backupStep } from './backup.js'
import { coreStep } from './core.js'
import { envelopeStep } from './envelope.js'

/** The tour, in order. Each package issue adds its step here. */
export const steps: readonly TourStep[] = [coreStep, envelopeStep, backupStep]
