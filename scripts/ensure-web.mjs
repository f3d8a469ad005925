#!/usr/bin/env node
// Builds the dashboard (web/dist) when it is missing or older than its sources, so `npm start` on a fresh
// checkout serves it. Plain Node on purpose: it runs before anything else, without tsx.
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const index = path.join(root, 'web', 'dist', 'index.html');
const sources = [
  path.join(root, 'web', 'src'),
  path.join(root, 'web', 'public'),
  path.join(root, 'web', 'index.html'),
  path.join(root, 'web', 'vite.config.ts'),
];

/** Newest modification time under `entry` (a file or a directory), 0 when it does not exist. */
function newest(entry) {
  let stats;
  try {
    stats = statSync(entry);
  } catch {
    return 0;
  }
  if (!stats.isDirectory()) return stats.mtimeMs;
  let max = 0;
  for (const name of readdirSync(entry)) max = Math.max(max, newest(path.join(entry, name)));
  return max;
}

function reason() {
  if (!existsSync(index)) return 'web/dist/index.html is missing';
  const built = statSync(index).mtimeMs;
  const changed = Math.max(...sources.map(newest));
  return changed > built ? 'web/ sources changed since the last build' : null;
}

const why = reason();
if (why) {
  console.log(`[ensure-web] ${why}; building the dashboard…`);
  const result = spawnSync('npx', ['--no-install', 'vite', 'build', '--config', 'web/vite.config.ts'], {
    cwd: root,
    env: { ...process.env, NODE_ENV: 'production' },
    stdio: 'inherit',
    shell: process.platform === 'win32',
  });
  if (result.error) {
    console.error(`[ensure-web] could not run the build: ${result.error.message}`);
    process.exit(1);
  }
  if (result.status !== 0) {
    console.error(`[ensure-web] the dashboard build failed (exit ${result.status ?? result.signal}).`);
    process.exit(result.status || 1);
  }
}
