// The demo's service worker: docent's (pkg/docent-sw.js), served from the page's folder so that its
// scope covers the page. After one visit the page, the package, the demo index and (once loaded)
// the model answer with the network off.
importScripts('/pkg/docent-sw.js');
