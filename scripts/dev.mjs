#!/usr/bin/env node
// `npm run dev`: the API with --watch (on PORT, default 4000) and Vite's dev server for the dashboard
// (port 5173, proxying /graphql to that same PORT), together. A busy port is one clear line and exit 1;
// Ctrl-C or a SIGTERM to this process stops everything it started (each child's whole process group,
// since npm and tsx start processes of their own).
import { spawn } from 'node:child_process';
import { createServer } from 'node:net';

const port = Number(process.env.PORT || 4000);
const host = process.env.HOST || '0.0.0.0';

/** Whether something already listens on the port: better said once here than as two stack traces later. */
function portFree(p) {
  return new Promise((resolve) => {
    const probe = createServer();
    probe.once('error', () => resolve(false));
    probe.listen(p, host, () => probe.close(() => resolve(true)));
  });
}

if (!(await portFree(port))) {
  console.error(`npm run dev: port ${port} is already in use (another server running?). Stop it or set PORT, e.g. PORT=4001 npm run dev`);
  process.exit(1);
}

const env = { ...process.env, PORT: String(port) };
const children = ['dev:api', 'dev:web'].map((script) => spawn('npm', ['run', '-s', script], { stdio: 'inherit', env, detached: true }));
let stopping = false;
function stop(code) {
  if (!stopping) {
    stopping = true;
    for (const child of children) {
      try {
        process.kill(-child.pid, 'SIGTERM'); // the whole group: npm, tsx, node, vite
      } catch {
        // already gone
      }
    }
  }
  process.exitCode ??= code;
}
process.on('SIGINT', () => stop(130));
process.on('SIGTERM', () => stop(143));
for (const child of children) child.on('exit', (code) => stop(code ?? 0));
