import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, request, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { brotliDecompressSync, gunzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createStaticAssetHandler } from './static-assets.ts';

interface Reply {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: Buffer;
}

const INDEX = '<!doctype html><title>AICP</title><script type="module" src="/assets/app-abc123.js"></script>';
const SCRIPT = `console.log(${JSON.stringify('x'.repeat(4000))});`;

describe('createStaticAssetHandler', () => {
  let outer: string;
  let dir: string;
  let server: Server;
  let port: number;

  beforeAll(async () => {
    outer = mkdtempSync(join(tmpdir(), 'aicp-static-'));
    dir = join(outer, 'dist');
    mkdirSync(join(dir, 'assets'), { recursive: true });
    writeFileSync(join(dir, 'index.html'), INDEX);
    writeFileSync(join(dir, 'assets', 'app-abc123.js'), SCRIPT);
    writeFileSync(join(dir, 'favicon.svg'), '<svg xmlns="http://www.w3.org/2000/svg"/>');
    writeFileSync(join(outer, 'secret.txt'), 'outside the dist folder');
    const handle = createStaticAssetHandler(dir);
    server = createServer((req, res) => {
      if (!handle(req, res)) res.writeHead(418).end('not handled');
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    port = (server.address() as AddressInfo).port;
  });

  afterAll(async () => {
    await new Promise((resolve) => server.close(resolve));
    rmSync(outer, { recursive: true, force: true });
  });

  /** A raw request (no URL normalisation, unlike fetch), so traversal attempts reach the handler as sent. */
  function get(path: string, headers: Record<string, string> = {}, method = 'GET'): Promise<Reply> {
    return new Promise((resolve, reject) => {
      const req = request({ host: '127.0.0.1', port, path, method, headers }, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (chunk: Buffer) => chunks.push(chunk));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks) }));
      });
      req.on('error', reject);
      req.end();
    });
  }

  it('serves index.html for / and for unknown app paths, with no-cache and a strict CSP', async () => {
    for (const path of ['/', '/workspace', '/tasks/123?x=1']) {
      const reply = await get(path);
      expect(reply.status).toBe(200);
      expect(reply.headers['content-type']).toBe('text/html; charset=utf-8');
      expect(reply.headers['cache-control']).toBe('no-cache');
      const csp = String(reply.headers['content-security-policy']);
      expect(csp).toContain("script-src 'self'");
      expect(csp).toContain("connect-src 'self' ws: wss:");
      expect(csp).not.toContain('unsafe-inline');
      expect(reply.body.toString()).toBe(INDEX);
    }
  });

  it('serves hashed assets as immutable, compressed as the client accepts', async () => {
    const plain = await get('/assets/app-abc123.js');
    expect(plain.status).toBe(200);
    expect(plain.headers['content-type']).toBe('text/javascript; charset=utf-8');
    expect(plain.headers['cache-control']).toBe('public, max-age=31536000, immutable');
    expect(plain.headers['content-encoding']).toBeUndefined();
    expect(plain.body.toString()).toBe(SCRIPT);

    const br = await get('/assets/app-abc123.js', { 'accept-encoding': 'gzip, deflate, br' });
    expect(br.headers['content-encoding']).toBe('br');
    expect(br.headers.vary).toBe('Accept-Encoding');
    expect(brotliDecompressSync(br.body).toString()).toBe(SCRIPT);

    const gz = await get('/assets/app-abc123.js', { 'accept-encoding': 'gzip, br;q=0' });
    expect(gz.headers['content-encoding']).toBe('gzip');
    expect(gunzipSync(gz.body).toString()).toBe(SCRIPT);
  });

  it('prefers a precompressed file written by the build', async () => {
    writeFileSync(join(dir, 'assets', 'pre-1.js'), SCRIPT);
    writeFileSync(join(dir, 'assets', 'pre-1.js.gz'), Buffer.from([0x1f, 0x8b])); // marker, not real gzip
    const reply = await get('/assets/pre-1.js', { 'accept-encoding': 'gzip' });
    expect(reply.headers['content-encoding']).toBe('gzip');
    expect([...reply.body]).toEqual([0x1f, 0x8b]);
  });

  it('answers HEAD without a body and a matching If-None-Match with 304', async () => {
    const head = await get('/favicon.svg', {}, 'HEAD');
    expect(head.status).toBe(200);
    expect(head.headers['content-type']).toBe('image/svg+xml');
    expect(head.body.length).toBe(0);
    const etag = String(head.headers.etag);
    const again = await get('/favicon.svg', { 'if-none-match': etag });
    expect(again.status).toBe(304);
    expect(again.body.length).toBe(0);
  });

  it('leaves /graphql, other methods and unknown files alone; 404s a missing hashed asset', async () => {
    expect((await get('/graphql')).status).toBe(418);
    expect((await get('/graphql/stream')).status).toBe(418);
    expect((await get('/', {}, 'POST')).status).toBe(418);
    expect((await get('/robots.txt')).status).toBe(418);
    expect((await get('/api/thing', { accept: 'application/json' })).status).toBe(418);
    const missing = await get('/assets/app-old999.js');
    expect(missing.status).toBe(404);
    expect(missing.headers['content-type']).toBe('text/plain; charset=utf-8');
  });

  it('never serves a file outside the dist folder', async () => {
    for (const path of ['/../secret.txt', '/assets/../../secret.txt', '/%2e%2e/secret.txt', '/..%2fsecret.txt', '/assets%5c..%5c..%5csecret.txt', '/%00index.html']) {
      const reply = await get(path);
      expect(reply.body.toString()).not.toContain('outside the dist folder');
      expect([400, 404, 418]).toContain(reply.status);
    }
    expect((await get('/assets/app-abc123.js.gz')).body.toString()).not.toBe(SCRIPT); // twins only via negotiation
  });
});
