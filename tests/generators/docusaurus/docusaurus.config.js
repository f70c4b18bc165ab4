// Docusaurus (classic preset) over the shared manual: the test copies ../manual to docs/ and
// builds with this configuration. The docs are served at the site root.
export default {
  title: 'Tidewater',
  url: 'https://example.org',
  baseUrl: '/',
  onBrokenLinks: 'throw',
  presets: [
    [
      'classic',
      {
        docs: {
          routeBasePath: '/',
          sidebarPath: './sidebars.js',
          editUrl: 'https://example.org/tidewater/edit/main/',
        },
        blog: false,
        pages: false,
        theme: {},
      },
    ],
  ],
  themeConfig: {
    navbar: {
      title: 'Tidewater',
      items: [{ type: 'docsVersionDropdown', position: 'right' }],
    },
    announcementBar: { id: 'cookies', content: 'This site uses cookies.' },
    footer: { style: 'dark', copyright: 'Copyright Tidewater authors' },
  },
};
