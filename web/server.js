#!/usr/bin/env node
// Serves the demo page and the widget bundle on 127.0.0.1, with no dependencies.
//
//   node web/server.js            # http://127.0.0.1:8080
//   WEB_PORT=8090 FAQ_RASA_URL=http://127.0.0.1:5006 node web/server.js
//
// Only a fixed list of files is served (no directory listing, no path from the
// URL reaches the file system). The Rasa URL comes from the environment, never
// from the page URL, so a crafted link cannot point the widget at another server.
'use strict';

const fs = require('fs');
const http = require('http');
const path = require('path');

const HOST = process.env.WEB_HOST || '127.0.0.1';
const PORT = Number.parseInt(process.env.WEB_PORT || process.argv[2] || '8080', 10);
const RASA_URL = (process.env.FAQ_RASA_URL || 'http://127.0.0.1:5005').replace(/\/+$/, '');

const HERE = __dirname;
const WIDGET_BUNDLE = path.join(HERE, 'node_modules', 'rasa-webchat', 'lib', 'index.js');

/** URL path -> [file, content type]. */
const FILES = {
  '/': [path.join(HERE, 'index.html'), 'text/html; charset=utf-8'],
  '/index.html': [path.join(HERE, 'index.html'), 'text/html; charset=utf-8'],
  '/static/page.css': [path.join(HERE, 'static', 'page.css'), 'text/css; charset=utf-8'],
  '/static/widget.js': [path.join(HERE, 'static', 'widget.js'), 'text/javascript; charset=utf-8'],
  '/vendor/rasa-webchat.js': [WIDGET_BUNDLE, 'text/javascript; charset=utf-8'],
};

function rasaOrigins(url) {
  const parsed = new URL(url);
  const ws = parsed.protocol === 'https:' ? 'wss:' : 'ws:';
  return [parsed.origin, `${ws}//${parsed.host}`];
}

// The widget injects its CSS with <style> tags and sets inline styles, hence
// 'unsafe-inline' for styles only. Scripts: this origin only.
const CSP = [
  "default-src 'self'",
  "script-src 'self'",
  "style-src 'self' 'unsafe-inline'",
  "img-src 'self' data:",
  "font-src 'self' data:",
  `connect-src 'self' ${rasaOrigins(RASA_URL).join(' ')}`,
  "frame-src 'none'",
  "object-src 'none'",
  "base-uri 'none'",
  "form-action 'none'",
  "frame-ancestors 'none'",
].join('; ');

const SECURITY_HEADERS = {
  'Content-Security-Policy': CSP,
  'X-Content-Type-Options': 'nosniff',
  'Referrer-Policy': 'no-referrer',
  'Cache-Control': 'no-store',
};

// The bundle's CSS @imports the Inter font from fonts.googleapis.com. No CDN:
// the import is removed when the bundle is served (the page font is used), and
// the CSP above would block it anyway.
const FONT_IMPORT = /@import url\(https:\/\/fonts\.googleapis\.com\/[^)]*\);/g;

function widgetBundle(data) {
  return data.toString('utf8').replace(FONT_IMPORT, '');
}

function send(res, status, type, body) {
  res.writeHead(status, { ...SECURITY_HEADERS, 'Content-Type': type });
  res.end(body);
}

const server = http.createServer((req, res) => {
  if (req.method !== 'GET' && req.method !== 'HEAD') {
    send(res, 405, 'text/plain; charset=utf-8', 'Methode niet toegestaan\n');
    return;
  }
  const pathname = new URL(req.url, 'http://localhost').pathname;
  if (pathname === '/config.js') {
    const config = { rasaUrl: RASA_URL };
    send(res, 200, 'text/javascript; charset=utf-8',
      `window.FAQ_WIDGET_CONFIG = ${JSON.stringify(config)};\n`);
    return;
  }
  const entry = FILES[pathname];
  if (!entry) {
    send(res, 404, 'text/plain; charset=utf-8', 'Niet gevonden\n');
    return;
  }
  fs.readFile(entry[0], (err, data) => {
    if (err) {
      const hint = entry[0] === WIDGET_BUNDLE ? ' (run scripts/web.sh: npm ci)' : '';
      console.error(`cannot read ${entry[0]}${hint}: ${err.message}`);
      send(res, 500, 'text/plain; charset=utf-8', 'Bestand ontbreekt\n');
      return;
    }
    const body = entry[0] === WIDGET_BUNDLE ? widgetBundle(data) : data;
    send(res, 200, entry[1], req.method === 'HEAD' ? undefined : body);
  });
});

if (!fs.existsSync(WIDGET_BUNDLE)) {
  console.error(`widget bundle missing: ${WIDGET_BUNDLE}; run 'npm ci' in web/`);
  process.exit(1);
}

server.listen(PORT, HOST, () => {
  console.log(`Demo-pagina: http://${HOST}:${PORT}/  (Rasa: ${RASA_URL})`);
});

for (const signal of ['SIGINT', 'SIGTERM']) {
  process.on(signal, () => process.exit(0));
}
