// A Node module-resolution hook for tests of optional dependencies: with
//   node --import tsx --import ./scripts/test-support/hide-modules.mjs app.ts
// and SAFEGUARDS_HIDE_MODULES=name1,name2, every import of those packages (and their subpaths)
// fails exactly as it does when the package is not installed: Node's own resolver is asked to find
// it from a directory that has no node_modules, so the error is the real ERR_MODULE_NOT_FOUND
// ("Cannot find package 'name1' imported from …"). Everything else resolves as usual.
import { register } from 'node:module'
import { isMainThread } from 'node:worker_threads'

/** @type {string[]} */
let hidden = []

/** @param {{ hide: string[] }} data */
export function initialize(data) {
  hidden = data.hide
}

/** @type {import('node:module').ResolveHook} */
export async function resolve(specifier, context, next) {
  if (hidden.some((h) => specifier === h || specifier.startsWith(`${h}/`))) {
    return next(specifier, { ...context, parentURL: 'file:///nonexistent/hidden-by-test.mjs' })
  }
  return next(specifier, context)
}

// Hooks run on their own thread, which loads this file again: register only from the main thread.
if (isMainThread) {
  const hide = (process.env.SAFEGUARDS_HIDE_MODULES ?? '').split(',').filter((s) => s !== '')
  register(import.meta.url, { data: { hide } })
}
