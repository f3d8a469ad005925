#!/usr/bin/env node
// `npm run dev`: the API with --watch (port 4000) and Vite's dev server for the dashboard (port 5173,
// proxying /graphql to the API), together; Ctrl-C stops both.
import { spawn } from 'node:child_process';

const children = [
  spawn('npm', ['run', '-s', 'dev:api'], { stdio: 'inherit' }),
  spawn('npm', ['run', '-s', 'dev:web'], { stdio: 'inherit' }),
];
const stop = () => children.forEach((child) => child.kill('SIGTERM'));
process.on('SIGINT', stop);
process.on('SIGTERM', stop);
for (const child of children) child.on('exit', (code) => { stop(); process.exitCode = code ?? 0; });
