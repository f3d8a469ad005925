import { createHash } from 'node:crypto';
import { readFile, stat } from 'node:fs/promises';
import { statSync, type Stats } from 'node:fs';
import type { IncomingMessage, ServerResponse } from 'node:http';
import path from 'node:path';
import { promisify } from 'node:util';
import { brotliCompress, constants as zlib, gzip } from 'node:zlib';

/**
 * Serves the built dashboard (web/dist) from the API process.
 *
 * - GET/HEAD only; `/graphql` (and anything below it) is never touched.
 * - A path naming a file serves it; a path without a file extension that names no file serves index.html
 *   (the single-page app), unless the client plainly does not want HTML.
 * - /assets/* are content-hashed by Vite: cached for a year, `immutable`. Everything else (index.html,
 *   favicon) is `no-cache`, revalidated by ETag, so a new build shows up on the next load.
 * - Brotli or gzip as the client accepts: the `.br`/`.gz` files the build wrote next to each asset, else
 *   compressed here once and kept in memory (the dist folder is small and fixed per build).
 * - index.html carries a strict Content-Security-Policy: only our own scripts run, so even if task text
 *   were ever injected as HTML somewhere, an inline `onerror=` would not execute.
 * - Path traversal: the decoded path is resolved and must stay inside `distDir`; NUL bytes, backslashes and
 *   dot-segments are refused.
 */

/** What `index.html` may do: scripts and styles from us only, API calls and the WebSocket to us. */
export const DASHBOARD_CSP = [
  "default-src 'self'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' data:",
  "font-src 'self'",
  "connect-src 'self' ws: wss:",
  "object-src 'none'",
  "base-uri 'none'",
  "form-action 'self'",
  "frame-ancestors 'none'",
].join('; ');

const CONTENT_TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json; charset=utf-8',
  '.map': 'application/json; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.jpg': 'image/jpeg',
  '.jpeg': 'image/jpeg',
  '.gif': 'image/gif',
  '.webp': 'image/webp',
  '.avif': 'image/avif',
  '.ico': 'image/x-icon',
  '.woff': 'font/woff',
  '.woff2': 'font/woff2',
  '.txt': 'text/plain; charset=utf-8',
  '.webmanifest': 'application/manifest+json',
};
const COMPRESSIBLE = new Set(['.html', '.js', '.mjs', '.css', '.json', '.map', '.svg', '.txt', '.webmanifest']);
/** Below this, compression costs more than it saves. */
const MIN_COMPRESS_BYTES = 1024;
const IMMUTABLE = 'public, max-age=31536000, immutable';

type Encoding = 'br' | 'gzip' | 'identity';

interface Body {
  data: Buffer;
  etag: string;
}

const brotli = promisify(brotliCompress);
const gzipAsync = promisify(gzip);

/** The client's preferred encoding among the ones we produce (q=0 means "not acceptable"). */
function negotiate(header: string | string[] | undefined): Encoding {
  const accepted = new Map<string, number>();
  for (const part of (Array.isArray(header) ? header.join(',') : (header ?? '')).split(',')) {
    const [name = '', ...params] = part.trim().toLowerCase().split(';');
    if (!name) continue;
    const q = params.map((p) => p.trim()).find((p) => p.startsWith('q='));
    accepted.set(name, q ? Number(q.slice(2)) || 0 : 1);
  }
  const ok = (name: string) => (accepted.get(name) ?? accepted.get('*') ?? 0) > 0;
  if (ok('br')) return 'br';
  if (ok('gzip')) return 'gzip';
  return 'identity';
}

function wantsHtml(req: IncomingMessage): boolean {
  const accept = req.headers.accept;
  return !accept || accept.includes('text/html') || accept.includes('*/*');
}

function isFile(file: string): Stats | null {
  try {
    const stats = statSync(file);
    return stats.isFile() ? stats : null;
  } catch {
    return null;
  }
}

export function createStaticAssetHandler(distDir: string): (req: IncomingMessage, res: ServerResponse) => boolean {
  const root = path.resolve(distDir);
  /** key: file + encoding; valid while the file's mtime and size are unchanged (a rebuild invalidates it). */
  const cache = new Map<string, { version: string; body: Promise<Body | null> }>();

  async function load(file: string, stats: Stats, encoding: Encoding): Promise<Body | null> {
    const ext = path.extname(file);
    if (encoding !== 'identity' && (!COMPRESSIBLE.has(ext) || stats.size < MIN_COMPRESS_BYTES)) return null;
    let data: Buffer;
    if (encoding === 'identity') {
      data = await readFile(file);
    } else {
      const precompressed = `${file}.${encoding === 'br' ? 'br' : 'gz'}`;
      const pre = await stat(precompressed).catch(() => null);
      if (pre?.isFile() && pre.mtimeMs >= stats.mtimeMs) {
        data = await readFile(precompressed);
      } else {
        const raw = await readFile(file);
        data =
          encoding === 'br'
            ? await brotli(raw, { params: { [zlib.BROTLI_PARAM_QUALITY]: 9, [zlib.BROTLI_PARAM_SIZE_HINT]: raw.length } })
            : await gzipAsync(raw, { level: 9 });
      }
    }
    const hash = createHash('sha1').update(data).digest('base64url').slice(0, 20);
    return { data, etag: `"${hash}${encoding === 'identity' ? '' : `-${encoding}`}"` };
  }

  function body(file: string, stats: Stats, encoding: Encoding): Promise<Body | null> {
    const key = `${file}\0${encoding}`;
    const version = `${stats.mtimeMs}:${stats.size}`;
    const hit = cache.get(key);
    if (hit?.version === version) return hit.body;
    const loading = load(file, stats, encoding);
    cache.set(key, { version, body: loading });
    loading.catch(() => cache.delete(key));
    return loading;
  }

  async function send(req: IncomingMessage, res: ServerResponse, file: string, stats: Stats, isIndex: boolean, immutable: boolean) {
    const ext = path.extname(file);
    const preferred = negotiate(req.headers['accept-encoding']);
    let encoding: Encoding = preferred;
    let found = preferred === 'identity' ? null : await body(file, stats, preferred);
    if (!found) {
      encoding = 'identity';
      found = await body(file, stats, 'identity');
    }
    if (!found) throw new Error(`cannot read ${file}`);
    const headers: Record<string, string> = {
      'content-type': CONTENT_TYPES[ext] ?? 'application/octet-stream',
      'cache-control': immutable ? IMMUTABLE : 'no-cache',
      etag: found.etag,
      vary: 'Accept-Encoding',
      'x-content-type-options': 'nosniff',
      'referrer-policy': 'no-referrer',
    };
    if (encoding !== 'identity') headers['content-encoding'] = encoding;
    if (isIndex) {
      headers['content-security-policy'] = DASHBOARD_CSP;
      headers['x-frame-options'] = 'DENY';
    }
    const inm = req.headers['if-none-match'];
    if (inm && inm.split(',').some((tag) => tag.trim().replace(/^W\//, '') === found.etag)) {
      res.writeHead(304, { etag: found.etag, 'cache-control': headers['cache-control'] ?? 'no-cache', vary: 'Accept-Encoding' }).end();
      return;
    }
    headers['content-length'] = String(found.data.length);
    res.writeHead(200, headers);
    res.end(req.method === 'HEAD' ? undefined : found.data);
  }

  function fail(res: ServerResponse, status: number, message: string): void {
    if (res.headersSent) return void res.destroy();
    res.writeHead(status, { 'content-type': 'text/plain; charset=utf-8', 'cache-control': 'no-store', 'x-content-type-options': 'nosniff' }).end(message);
  }

  return (req, res) => {
    if (req.method !== 'GET' && req.method !== 'HEAD') return false;
    const rawPath = (req.url ?? '/').split('?', 1)[0] ?? '/';
    if (rawPath === '/graphql' || rawPath.startsWith('/graphql/')) return false;

    let pathname: string;
    try {
      pathname = decodeURIComponent(rawPath);
    } catch {
      fail(res, 400, 'Bad request');
      return true;
    }
    const segments = pathname.split('/').filter(Boolean);
    if (!pathname.startsWith('/') || pathname.includes('\0') || pathname.includes('\\') || segments.some((s) => s === '..' || s === '.')) {
      fail(res, 400, 'Bad request');
      return true;
    }
    // Dotfiles (and the precompressed twins, which are served only through content negotiation) stay private.
    const hidden = segments.some((s) => s.startsWith('.')) || /\.(br|gz)$/.test(pathname);

    const file = path.resolve(root, ...segments);
    if (file !== root && !file.startsWith(root + path.sep)) {
      fail(res, 400, 'Bad request');
      return true;
    }
    const index = path.join(root, 'index.html');
    const stats = hidden ? null : isFile(file);
    const immutable = segments[0] === 'assets';

    let target: { file: string; stats: Stats } | null = stats ? { file, stats } : null;
    if (!target) {
      if (immutable) {
        // A hashed asset from another build: a plain 404, never index.html (it would be parsed as JS).
        fail(res, 404, 'Not found');
        return true;
      }
      const last = segments.at(-1) ?? '';
      if (path.extname(last) !== '' || !wantsHtml(req)) return false;
      const indexStats = isFile(index);
      if (!indexStats) return false; // not built: let the caller answer
      target = { file: index, stats: indexStats };
    }

    send(req, res, target.file, target.stats, target.file === index, immutable).catch(() => fail(res, 500, 'Cannot read the dashboard files'));
    return true;
  };
}
