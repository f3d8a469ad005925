import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { brotliCompressSync, constants as zlib, gzipSync } from 'node:zlib';
import react from '@vitejs/plugin-react';
import { defineConfig, type Plugin } from 'vite';

const webRoot = path.dirname(fileURLToPath(import.meta.url));
/** The API the dev server proxies to: where `npm run dev` starts it (PORT, as the server reads it; default 4000). */
const apiTarget = `http://127.0.0.1:${process.env.PORT || '4000'}`;

/**
 * Writes `.br` and `.gz` next to every compressible file of the build, at the highest levels, so the
 * API process serves them as they are instead of compressing on the fly (src/http/static-assets.ts).
 */
function precompress(): Plugin {
  let outDir = '';
  return {
    name: 'aicp-precompress',
    apply: 'build',
    configResolved(config) {
      outDir = path.resolve(config.root, config.build.outDir);
    },
    writeBundle(_options, bundle) {
      for (const fileName of [...Object.keys(bundle), 'index.html']) {
        if (!/\.(js|css|html|svg|json)$/.test(fileName)) continue;
        const file = path.join(outDir, fileName);
        const body = readFileSync(file);
        if (body.length < 1024) continue;
        writeFileSync(`${file}.gz`, gzipSync(body, { level: 9 }));
        writeFileSync(
          `${file}.br`,
          brotliCompressSync(body, { params: { [zlib.BROTLI_PARAM_QUALITY]: 11, [zlib.BROTLI_PARAM_SIZE_HINT]: body.length } }),
        );
      }
    },
  };
}

export default defineConfig(({ command }) => {
  // Always a production build, whatever NODE_ENV the caller runs with: vitest sets `test`, and many shells
  // export `development`, which would make Vite bundle React's development build (twice the size, slower).
  // Vite reads NODE_ENV again after loading this file, so setting it here takes effect.
  if (command === 'build') process.env.NODE_ENV = 'production';
  return {
    root: webRoot,
    base: '/',
    plugins: [react(), precompress()],
    build: {
      outDir: 'dist',
      emptyOutDir: true,
      target: 'es2022',
      // Every browser that runs this dashboard supports <link rel="modulepreload">; skip the polyfill.
      modulePreload: { polyfill: false },
      // Nothing inlined as data: URLs, so the strict Content-Security-Policy needs no exceptions.
      assetsInlineLimit: 0,
    },
    server: {
      proxy: {
        // HTTP queries/mutations and the graphql-ws WebSocket both live on /graphql.
        '/graphql': { target: apiTarget, ws: true, changeOrigin: true },
      },
    },
    preview: {
      proxy: {
        '/graphql': { target: apiTarget, ws: true, changeOrigin: true },
      },
    },
  };
});
