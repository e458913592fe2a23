/**
 * `errorCode` on the Node subpath, where the I/O code that needs it lives. The one implementation
 * is in the root entry's modules (it imports nothing from `node:`), so `IoError` shares it.
 *
 * @module
 */
export { errorCode } from '../error-code.js'
