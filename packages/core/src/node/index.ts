/**
 * `@safeguards/core/node`: the SDK's shared Node I/O. Durable atomic writes, the one inter-process
 * file lock, directory fsync, `errorCode`, and the alert channels (signed webhook, Prometheus
 * textfile, line writer). Node only (the root entry `@safeguards/core` stays free
 * of `node:` imports and runs in browsers and edge runtimes).
 *
 * @packageDocumentation
 */
export type { AlertChannel, AlertDelivery, PrometheusMetric, WebhookChannelOptions } from './alerts.js'
export {
  AlertDeliveryError,
  deliverAlert,
  lineChannel,
  prometheusText,
  readPrometheusSample,
  webhookChannel,
  writePrometheusTextfile,
} from './alerts.js'
export type { WriteFileAtomicOptions } from './atomic-write.js'
export { fsyncDir, fsyncDirSync, writeFileAtomic } from './atomic-write.js'
export { errorCode } from './error-code.js'
export type { FileLock, FileLockOptions } from './file-lock.js'
export { acquireFileLock, withFileLock } from './file-lock.js'
