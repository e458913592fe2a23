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
  srcExclude: ['test/**', 'scripts/**', 'node_modules/**', '.examples/**', 'README.md'],
  head: [['meta', { name: 'referrer', content: 'no-referrer' }]],
  themeConfig: {
    search: { provider: 'local' },
    nav: [
      { text: 'Guide', link: '/guide/getting-started' },
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
      ],
      '/compliance/': [
        {
          text: 'Compliance',
          items: [
            { text: 'HIPAA matrix', link: '/compliance/hipaa-matrix' },
            { text: 'OSCAL component definition', link: '/compliance/oscal' },
          ],
        },
      ],
      '/api/': [{ text: 'API reference', items: apiSidebar }],
    },
    footer: { message: 'Apache-2.0. HIPAA coverage is generated from the code; it is not legal advice.' },
  },
})
