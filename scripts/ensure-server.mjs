#!/usr/bin/env node
// Compiles the server to dist/ (tsconfig.build.json) when it is missing or older than its sources, so
// `npm start` runs plain JavaScript: no TypeScript loader in the serving process. Plain Node on purpose.
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const entry = path.join(root, 'dist', 'src', 'main.js');
const sources = [path.join(root, 'src'), path.join(root, 'tsconfig.json'), path.join(root, 'tsconfig.build.json'), path.join(root, 'package-lock.json')];

/** Newest modification time under `entry` (a file or a directory), 0 when it does not exist. */
function newest(entryPath) {
  let stats;
  try {
    stats = statSync(entryPath);
  } catch {
    return 0;
  }
  if (!stats.isDirectory()) return stats.mtimeMs;
  let max = 0;
  for (const name of readdirSync(entryPath)) max = Math.max(max, newest(path.join(entryPath, name)));
  return max;
}

const why = !existsSync(entry) ? 'dist/src/main.js is missing' : Math.max(...sources.map(newest)) > statSync(entry).mtimeMs ? 'src/ changed since the last build' : null;
if (why) {
  console.log(`[ensure-server] ${why}; compiling the server…`);
  const result = spawnSync('npx', ['--no-install', 'tsc', '-p', 'tsconfig.build.json'], { cwd: root, stdio: 'inherit', shell: process.platform === 'win32' });
  if (result.error || result.status !== 0) {
    console.error(`[ensure-server] the server build failed: ${result.error?.message ?? `exit ${result.status ?? result.signal}`}`);
    process.exit(result.status || 1);
  }
}
