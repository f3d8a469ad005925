/**
 * `npm run bench`: starts the server as a user would (a child process, production mode, a fresh SQLite
 * file, the fake provider answering instantly), drives it from other processes, prints a table and writes
 * bench-results/latest.json. Every ratio is to a baseline measured in the same run.
 *
 * Environment: BENCH_DURATION (measured seconds per load run, 10), BENCH_WARMUP (3), BENCH_TASKS (figure 4,
 * 10000), BENCH_SUBSCRIBERS (figure 5, 10000), BENCH_GOODPUT_TASKS (figure 6, 2000), BENCH_GOODPUT_RPS
 * (50), BENCH_ARCHIVE_TASKS (figure 7, 100000), BENCH_PROFILE=1 (CPU-profile every server and print
 * where the time went in each measured window; see bench-results/profiles/), BENCH_PG_SECONDS (figure 8:
 * each PostgreSQL run is sized to last about this long at its bound, 20), BENCH_BURST_SUBSCRIBERS,
 * BENCH_BURST_SECONDS and BENCH_BURST_AFTER (figure 9, 500, 15 and 30 s sampled after), BENCH_HEAP_SNAPSHOTS=1 (figure 9 also writes heap snapshots of
 * its server before and after the burst, to bench-results/heap/), BENCH_ONLY (a comma-separated subset of
 * reads,e2e,live,provider,memory,postgres,burst). Figure 8 needs PostgreSQL and Redis (TEST_POSTGRES_URL,
 * TEST_REDIS_URL; the local ones by default) and is skipped with a message without PostgreSQL.
 */
import { execSync, spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { startFakeLlm } from '../fake-llm/server.ts';
import { burstFigure } from './figures-burst.ts';
import { endToEndFigure, readAndCreateFigures } from './figures-http.ts';
import { liveFigure } from './figures-live.ts';
import { memoryFigure } from './figures-memory.ts';
import { postgresFigure, postgresReachable } from './figures-postgres.ts';
import { providerFigure } from './figures-provider.ts';
import { summarise, type Window } from './profile-summary.ts';
import { type Figures, mb, printTable, rows, writeResults } from './report.ts';
import { type BenchServer, startServer } from './server.ts';

const env = (name: string, fallback: number) => Number(process.env[name] ?? fallback);
const settings = {
  tasks: env('BENCH_TASKS', 10_000),
  subscribers: env('BENCH_SUBSCRIBERS', 10_000),
  goodputTasks: env('BENCH_GOODPUT_TASKS', 2_000),
  goodputRps: env('BENCH_GOODPUT_RPS', 50),
  archiveTasks: env('BENCH_ARCHIVE_TASKS', 100_000),
  seconds: env('BENCH_DURATION', 10),
  postgresSeconds: env('BENCH_PG_SECONDS', 20),
  burstSubscribers: env('BENCH_BURST_SUBSCRIBERS', 500),
  burstSeconds: env('BENCH_BURST_SECONDS', 15),
  burstAfter: env('BENCH_BURST_AFTER', 30),
};
const profiling = process.env.BENCH_PROFILE === '1';
const only = new Set((process.env.BENCH_ONLY ?? 'reads,e2e,live,provider,memory,postgres,burst').split(',').map((s) => s.trim()));
const resultsDir = new URL('../../bench-results/', import.meta.url).pathname;
const profileRoot = join(resultsDir, 'profiles');
const began = performance.now();
const log = (line: string) => console.log(`[${((performance.now() - began) / 1000).toFixed(0).padStart(3)} s] ${line}`);

// Figure 5 holds one descriptor per connection in the server. When the soft limit is too low, run again
// under the hard limit (which any process may raise its soft limit to), so every child inherits it.
const openFiles = Number(execSync('ulimit -n', { shell: '/bin/sh' }).toString().trim());
if (openFiles < settings.subscribers + 1000) {
  if (!process.env.BENCH_RAISED_ULIMIT) {
    const again = spawnSync('/bin/sh', ['-c', 'ulimit -n "$(ulimit -Hn)" 2>/dev/null; exec "$0" "$@"', process.execPath, ...process.execArgv, ...process.argv.slice(1)], {
      stdio: 'inherit',
      env: { ...process.env, BENCH_RAISED_ULIMIT: '1' },
    });
    process.exit(again.status ?? 1);
  }
  console.warn(`ulimit -n is ${openFiles} (the hard limit): figure 5 needs about ${settings.subscribers + 1000}; raise it (ulimit -n 65536 as root)`);
}
if (profiling) rmSync(profileRoot, { recursive: true, force: true });

const fake = await startFakeLlm();
const dirs: string[] = [];
const profiles: { server: string; windows: Record<string, Window> }[] = [];

/** A fresh folder (and SQLite file) per server; profiles, when asked for, per server too. */
async function server(name: string, prepare?: (dir: string) => Promise<void>): Promise<BenchServer> {
  const dir = mkdtempSync(join(tmpdir(), `aicp-bench-${name}-`));
  dirs.push(dir);
  await prepare?.(dir);
  const profileDir = profiling ? join(profileRoot, name) : undefined;
  if (profileDir) mkdirSync(profileDir, { recursive: true });
  return startServer({ dir, providerUrl: fake.baseUrl, name, profileDir });
}

try {
  log(`node ${process.version}; load runs of ${settings.seconds} s, 32 connections`);
  const figures: Figures = {};
  if (only.has('reads')) {
    const a = await server('reads');
    await sleep(1000);
    figures.idleRss = a.rss();
    const reads = await readAndCreateFigures(a, log);
    figures.reads = reads;
    await a.stop();
    profiles.push({
      server: 'reads',
      windows: { typename: reads.typename.window, agents: reads.agents.window, tasks: reads.tasks.window, createTask: reads.createTask.window },
    });
  }

  if (only.has('e2e')) {
    const b = await server('end-to-end');
    const from = Number(process.hrtime.bigint() / 1000n);
    const endToEnd = await endToEndFigure(b, settings.tasks, log);
    figures.endToEnd = endToEnd;
    profiles.push({ server: 'end-to-end', windows: { endToEnd: { from, to: Number(process.hrtime.bigint() / 1000n) } } });
    log(`  ${endToEnd.perSecond.toFixed(0)} tasks/s (${endToEnd.tasks} in ${endToEnd.seconds.toFixed(1)} s, ${endToEnd.failed} failed)`);
    await b.stop();
  }

  if (only.has('live')) {
    const c = await server('live');
    const live = await liveFigure(c, settings.subscribers, log);
    figures.live = live;
    log(`  p50 ${live.latencyMs.p50.toFixed(0)} ms, p99 ${live.latencyMs.p99.toFixed(0)} ms, ${(live.bytesPerConnection / 1024).toFixed(1)} KB per connection`);
    await c.stop();
    profiles.push({ server: 'live', windows: { broadcast: live.window } });
  }

  if (only.has('provider')) {
    const provider = await providerFigure(settings.goodputRps, settings.goodputTasks, log);
    figures.provider = provider;
    for (const r of provider.runs) log(`  ${r.policy}: ${r.goodput.toFixed(1)}/s, ${r.failed} failed, ${r.unfinished} unfinished, ${r.rateLimited} x 429`);
  }

  if (only.has('memory')) {
    const memoryDir = mkdtempSync(join(tmpdir(), 'aicp-bench-memory-'));
    dirs.push(memoryDir);
    const { figures: memory, server: d } = await memoryFigure(
      { dir: memoryDir, providerUrl: fake.baseUrl, ...(profiling && { profileDir: join(profileRoot, 'memory') }) },
      settings.archiveTasks,
      Math.max(3, Math.round(settings.seconds / 2)),
      log,
    );
    figures.memory = memory;
    await d.stop();
  }

  if (only.has('postgres')) {
    if (await postgresReachable()) figures.postgres = await postgresFigure(settings.postgresSeconds, log);
    else log('figure 8 skipped: no PostgreSQL server (TEST_POSTGRES_URL)');
  }

  if (only.has('burst')) {
    const burstDir = mkdtempSync(join(tmpdir(), 'aicp-bench-burst-'));
    dirs.push(burstDir);
    const { figures: burst, server: e } = await burstFigure(
      { dir: burstDir, providerUrl: fake.baseUrl, ...(profiling && { profileDir: join(profileRoot, 'burst') }) },
      { subscribers: settings.burstSubscribers, seconds: settings.burstSeconds, afterSeconds: settings.burstAfter, snapshots: process.env.BENCH_HEAP_SNAPSHOTS === '1' },
      log,
    );
    figures.burst = burst;
    for (const s of burst.after.filter((x) => x.at % 5 === 0)) log(`  +${s.at} s: RSS ${mb(s.rss)}, heap used ${mb(s.heapUsed)} of ${mb(s.heapTotal)}`);
    const rssAt = (second: number) => mb(burst.after.find((x) => x.at === second)?.rss ?? Number.NaN);
    log(
      `  RSS before ${mb(burst.rssBefore)} (heap used ${mb(burst.heapBefore)} of ${mb(burst.heapTotalBefore)}), peak ${mb(burst.rssPeak)}, +10 s ${rssAt(10)}, +30 s ${rssAt(30)}: ` +
        `${burst.ratio.toFixed(2)} of before, ${burst.ratio <= 1.2 ? 'PASS' : 'FAIL'} (<= 1.20)`,
    );
    await e.stop();
  }

  const table = rows(figures);
  const seconds = (performance.now() - began) / 1000;
  console.log(`\nAICP benchmark, ${new Date().toISOString()}, node ${process.version}, ${(await import('node:os')).cpus().length} CPUs, ${seconds.toFixed(0)} s\n`);
  console.log(printTable(table));
  console.log(`\nwritten to ${writeResults(figures, table, seconds)}`);

  if (profiling) {
    const out: string[] = [];
    for (const { server: name, windows } of profiles) {
      const folder = join(profileRoot, name);
      const main = readdirSync(folder).map((f) => join(folder, f)).sort((x, y) => statSync(y).size - statSync(x).size)[0];
      if (!main) continue;
      for (const [label, window] of Object.entries(windows)) out.push(`== ${name}: ${label} ==\n${summarise(main, 30, window)}\n`);
    }
    writeFileSync(join(resultsDir, 'profile-summary.txt'), out.join('\n'));
    console.log(`\nprofiles in ${profileRoot}; summary in ${join(resultsDir, 'profile-summary.txt')}`);
  }
} finally {
  await fake.close();
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
}
