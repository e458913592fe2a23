import { existsSync, readFileSync } from 'node:fs'
import { resolve } from 'node:path'
import { defineConfig } from 'vitepress'

const sidebarFile = resolve(import.meta.dirname, '../api/typedoc-sidebar.json')
const apiSidebar = existsSync(sidebarFile) ? JSON.parse(readFileSync(sidebarFile, 'utf8')) : []

// Offline by design: local search, self-hosted fonts (VitePress default theme), no analytics, no
// third-party requests from the built pages (the browser test asserts it). Dead links fail the build.
export default defineConfig({
  title: 'Safeguards',
  description: 'HIPAA-grade safeguard primitives for TypeScript',
  lang: 'en-US',
  cleanUrls: false,
  lastUpdated: false,
  ignoreDeadLinks: false,
  srcExclude: ['test/**', 'scripts/**', 'node_modules/**', 'README.md'],
  head: [
    ['meta', { name: 'referrer', content: 'no-referrer' }],
    ['link', { rel: 'icon', type: 'image/svg+xml', href: '/favicon.svg' }],
  ],
  themeConfig: {
    search: { provider: 'local' },
    nav: [
      { text: 'Guide', link: '/guide/getting-started' },
      { text: 'Packages', link: '/guide/packages/core' },
      { text: 'Runbooks', link: '/runbooks/key-rotation' },
      { text: 'HIPAA matrix', link: '/compliance/hipaa-matrix' },
      { text: 'API', link: '/api/' },
    ],
    sidebar: {
      '/guide/': [
        {
          text: 'Guide',
          items: [
            { text: 'Getting started', link: '/guide/getting-started' },
            { text: 'Threat model', link: '/guide/threat-model' },
          ],
        },
        {
          text: 'Packages',
          items: [
            { text: 'core', link: '/guide/packages/core' },
            { text: 'envelope', link: '/guide/packages/envelope' },
            { text: 'envelope-postgres', link: '/guide/packages/envelope-postgres' },
            { text: 'pkcs11', link: '/guide/packages/pkcs11' },
            { text: 'audit-log', link: '/guide/packages/audit-log' },
            { text: 'audit-log-postgres', link: '/guide/packages/audit-log-postgres' },
            { text: 'monitor', link: '/guide/packages/monitor' },
            { text: 'rbac', link: '/guide/packages/rbac' },
            { text: 'session', link: '/guide/packages/session' },
            { text: 'session-redis', link: '/guide/packages/session-redis' },
            { text: 'mfa', link: '/guide/packages/mfa' },
            { text: 'password', link: '/guide/packages/password' },
            { text: 'backup', link: '/guide/packages/backup' },
            { text: 'transport', link: '/guide/packages/transport' },
            { text: 'http', link: '/guide/packages/http' },
            { text: 'express', link: '/guide/packages/express' },
            { text: 'fastify', link: '/guide/packages/fastify' },
            { text: 'hono', link: '/guide/packages/hono' },
            { text: 'controls', link: '/guide/packages/controls' },
            { text: 'cli', link: '/guide/packages/cli' },
          ],
        },
      ],
      '/runbooks/': [
        {
          text: 'Runbooks',
          items: [
            { text: 'Key rotation and rewrap', link: '/runbooks/key-rotation' },
            { text: 'Audit verification', link: '/runbooks/audit-verification' },
            { text: 'Patient access report', link: '/runbooks/patient-access-report' },
            { text: 'Activity review', link: '/runbooks/activity-review' },
            { text: 'Backup restore test', link: '/runbooks/backup-restore-test' },
            { text: 'Emergency-access review', link: '/runbooks/emergency-access-review' },
          ],
        },
      ],
      '/compliance/': [
        {
          text: 'Compliance',
          items: [
            { text: 'HIPAA matrix', link: '/compliance/hipaa-matrix' },
            { text: 'Coverage map', link: '/compliance/coverage-map' },
            { text: 'Sample evidence report', link: '/compliance/sample-evidence' },
            { text: 'SP 800-53 pairs', link: '/compliance/nist-pairs' },
            { text: 'OSCAL component definition', link: '/compliance/oscal' },
          ],
        },
      ],
      '/api/': [{ text: 'API reference', items: apiSidebar }],
    },
    footer: { message: 'Apache-2.0. HIPAA coverage is generated from the code; it is not legal advice.' },
  },
})
