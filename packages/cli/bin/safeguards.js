#!/usr/bin/env node
// The `safeguards` command. The compiled entry lives in dist/; this shim exists at install time
// so package managers can link the bin before the package is built.
import('../dist/bin.js').catch((error) => {
  if (error && error.code === 'ERR_MODULE_NOT_FOUND' && String(error.message).includes('dist/bin.js')) {
    process.stderr.write('safeguards: the CLI is not built yet; run `pnpm build` first\n')
    process.exitCode = 2
    return
  }
  throw error
})
