/**
 * The dashboard's first-load JavaScript budget: the scripts and modulepreloads that web/dist/index.html
 * makes the browser fetch before anything renders, gzipped, against 150 KB. Lazy chunks (sign-in and the
 * workspaces) are listed but not counted.
 *
 *   npm run build:web && node --import tsx scripts/web-budget.ts [--json]
 *
 * Exits 1 when over budget, 2 when the build is missing.
 */
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';

const BUDGET_BYTES = 150 * 1024;
const dist = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', 'web', 'dist');

function gzipSize(file: string): { raw: number; gzip: number } {
  const data = readFileSync(path.join(dist, file));
  return { raw: data.length, gzip: gzipSync(data, { level: 9 }).length };
}

/** The src/href of every `<script src>` and `<link rel="modulepreload">` in the built index.html. */
export function firstLoadScripts(html: string): string[] {
  const urls: string[] = [];
  for (const tag of html.match(/<(script|link)\b[^>]*>/gi) ?? []) {
    const attr = (name: string) => new RegExp(`\\b${name}\\s*=\\s*["']([^"']+)["']`, 'i').exec(tag)?.[1];
    if (/^<script/i.test(tag)) {
      const src = attr('src');
      if (src) urls.push(src);
    } else if (attr('rel')?.toLowerCase() === 'modulepreload') {
      const href = attr('href');
      if (href) urls.push(href);
    }
  }
  return [...new Set(urls)].filter((u) => !/^(https?:)?\/\//.test(u)).map((u) => u.replace(/^\//, ''));
}

const kb = (bytes: number) => `${(bytes / 1024).toFixed(1)} KB`;

function main(): void {
  let html: string;
  try {
    html = readFileSync(path.join(dist, 'index.html'), 'utf8');
  } catch {
    console.error('web/dist/index.html not found: run `npm run build:web` first.');
    process.exit(2);
  }
  const first = firstLoadScripts(html).map((file) => ({ file, ...gzipSize(file) }));
  const total = first.reduce((sum, f) => sum + f.gzip, 0);
  const lazy = readdirSync(path.join(dist, 'assets'))
    .filter((f) => f.endsWith('.js') && !first.some((x) => x.file === `assets/${f}`))
    .map((f) => ({ file: `assets/${f}`, ...gzipSize(`assets/${f}`) }));
  const ok = total <= BUDGET_BYTES;

  if (process.argv.includes('--json')) {
    console.log(JSON.stringify({ budgetBytes: BUDGET_BYTES, firstLoadGzipBytes: total, ok, firstLoad: first, lazy }, null, 2));
  } else {
    console.log('First-load JavaScript (gzip -9):');
    for (const f of first) console.log(`  ${f.file.padEnd(44)} ${kb(f.raw).padStart(10)} raw ${kb(f.gzip).padStart(10)} gzip`);
    console.log(`  ${'total'.padEnd(44)} ${''.padStart(14)} ${kb(total).padStart(10)} gzip  (budget ${kb(BUDGET_BYTES)})`);
    console.log(`Loaded later, on demand: ${lazy.length} chunks, ${kb(lazy.reduce((s, f) => s + f.gzip, 0))} gzip`);
    console.log(ok ? `OK: ${kb(BUDGET_BYTES - total)} under budget.` : `OVER BUDGET by ${kb(total - BUDGET_BYTES)}.`);
  }
  process.exit(ok ? 0 : 1);
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) main();
