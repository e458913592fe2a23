/**
 * The public API's types, checked by Vitest typecheck (and by `tsc -p tsconfig.test.json`): a
 * breaking change to an exported signature fails CI here before a user's build does.
 */
import type { AuditStore, StoredRecord } from '@safeguards/audit-log'
import { describe, expectTypeOf, test } from 'vitest'
import type { ErrorCodes } from '../../../scripts/test-support/error-codes.js'
import * as api from '../src/index.js'

describe('@safeguards/monitor public types', () => {
  test('the engine', () => {
    expectTypeOf(api.createMonitor).parameter(0).toEqualTypeOf<api.MonitorOptions>()
    expectTypeOf(api.createMonitor).returns.toEqualTypeOf<api.Monitor>()
    expectTypeOf<api.Monitor['feed']>().returns.resolves.toEqualTypeOf<api.Finding[]>()
    expectTypeOf<api.Monitor['flush']>().returns.toEqualTypeOf<api.Finding[]>()
    expectTypeOf<api.Monitor['result']>().returns.toEqualTypeOf<api.MonitorResult>()
    expectTypeOf<api.MonitorOptions['rules']>().toEqualTypeOf<api.RuleSet | undefined>()
  })
  test('batch review', () => {
    expectTypeOf(api.reviewLog).toBeCallableWith({} as AuditStore)
    expectTypeOf(api.reviewLog).toBeCallableWith({} as AsyncIterable<readonly StoredRecord[]>, {
      stream: 's',
    })
    expectTypeOf(api.reviewLog).returns.resolves.toEqualTypeOf<api.MonitorResult>()
    expectTypeOf(api.formatResult).returns.toBeString()
    expectTypeOf(api.followLog).parameters.toEqualTypeOf<[store: AuditStore, options: api.FollowOptions]>()
    expectTypeOf(api.followLog).returns.resolves.toEqualTypeOf<api.MonitorResult>()
    expectTypeOf<api.FollowOptions['signal']>().toEqualTypeOf<AbortSignal>()
  })
  test('findings carry codes, identifiers and numbers only', () => {
    expectTypeOf<api.Finding['detector']>().toEqualTypeOf<api.DetectorName>()
    expectTypeOf<api.Finding['severity']>().toEqualTypeOf<api.Severity>()
    expectTypeOf<api.Finding['seqs']>().toEqualTypeOf<readonly number[]>()
    expectTypeOf<api.Finding['count']>().toBeNumber()
  })
  test('the findings lifecycle stores', () => {
    expectTypeOf(api.openFindingStore).returns.resolves.toEqualTypeOf<api.FileFindingStore>()
    expectTypeOf(api.openPostgresFindingStore).returns.resolves.toEqualTypeOf<api.FindingStore>()
    expectTypeOf<api.FileFindingStore>().toExtend<api.FindingStore>()
    expectTypeOf<api.FindingStore['admit']>().returns.resolves.toEqualTypeOf<api.Finding[]>()
    expectTypeOf<api.FindingStore['acknowledge']>().returns.resolves.toEqualTypeOf<api.FindingStatus>()
    expectTypeOf<api.AcknowledgeOptions['disposition']>().toEqualTypeOf<api.Disposition>()
    expectTypeOf<api.FindingStatus['state']>().toEqualTypeOf<api.FindingState>()
    expectTypeOf<api.SuppressOptions['until']>().toBeNumber()
    // a pg.Pool-shaped client fits without a driver dependency
    expectTypeOf(api.openPostgresFindingStore).toBeCallableWith({
      client: { query: async (_t: string, _v?: unknown[]) => ({ rows: [] }) },
    })
  })
  test('rules and errors', () => {
    expectTypeOf(api.parseRules).parameters.toEqualTypeOf<[text: string]>()
    expectTypeOf(api.parseRules).returns.toEqualTypeOf<api.RuleSet>()
    expectTypeOf<api.MonitorRulesError['pointer']>().toBeString()
    expectTypeOf<ErrorCodes<typeof api>>().toEqualTypeOf<{
      MonitorError: api.MonitorErrorCode
      MonitorRulesError: 'ERR_MONITOR_RULES'
      MonitorOrderError: 'ERR_MONITOR_ORDER'
      MonitorSelfReviewError: 'ERR_MONITOR_SELF_REVIEW'
      MonitorFindingUnknownError: 'ERR_MONITOR_FINDING_UNKNOWN'
      MonitorFindingStoreError: 'ERR_MONITOR_FINDING_STORE'
    }>()
  })
})
