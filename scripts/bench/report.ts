/** The table `npm run bench` prints and the JSON it writes: absolute figures, ratios and targets. */
import { mkdirSync, writeFileSync } from 'node:fs';
import { cpus } from 'node:os';
import type { BurstFigures } from './figures-burst.ts';
import type { EndToEnd, ReadFigures } from './figures-http.ts';
import type { LiveFigures } from './figures-live.ts';
import type { MemoryFigures } from './figures-memory.ts';
import type { PostgresFigures } from './figures-postgres.ts';
import type { ProviderFigures } from './figures-provider.ts';

/** Every figure; a run limited with BENCH_ONLY has some missing. */
export interface Figures {
  idleRss?: number;
  reads?: ReadFigures;
  endToEnd?: EndToEnd;
  live?: LiveFigures;
  provider?: ProviderFigures;
  memory?: MemoryFigures;
  postgres?: PostgresFigures;
  burst?: BurstFigures;
}

export interface Row {
  figure: string;
  measured: string;
  baseline: string;
  ratio: string;
  target: string;
  met: boolean;
}

export const mb = (bytes: number) => `${(bytes / 1024 / 1024).toFixed(0)} MB`;
const rps = (n: number) => `${n.toFixed(0)}/s`;
const cpuNote = (us: number) => `${us.toFixed(0)} µs CPU/req`;

export function rows(f: Figures): Row[] {
  const table: Row[] = [];
  const reads = f.reads;
  if (reads) {
    const base = reads.typename;
    const read = (name: string, r: typeof base, target: number): Row => {
      const x = r.rps / base.rps;
      return {
        figure: name,
        measured: `${rps(r.rps)} (p99 ${r.latencyMs.p99} ms, ${cpuNote(r.serverCpuMicrosPerRequest)})`,
        baseline: `{ __typename } ${rps(base.rps)} (${cpuNote(base.serverCpuMicrosPerRequest)})`,
        ratio: `${x.toFixed(2)} (CPU ${(base.serverCpuMicrosPerRequest / r.serverCpuMicrosPerRequest).toFixed(2)})`,
        target: `>= ${target.toFixed(2)}`,
        met: x >= target,
      };
    };
    table.push(read('1 agents(first: 10), anonymous', reads.agents, 0.8));
    table.push(read('2 tasks(first: 20) + agent, buyer', reads.tasks, 0.6));
    table.push(read('3 createTask, 32 funded buyers', reads.createTask, 0.5));
  }
  const e2e = f.endToEnd;
  if (e2e) {
    const x = reads ? e2e.perSecond / reads.createTask.rps : Number.NaN;
    table.push({
      figure: `4 completed end to end (${e2e.tasks} tasks)`,
      measured: `${rps(e2e.perSecond)} (${e2e.seconds.toFixed(1)} s, ${e2e.failed} failed; all posted after ${e2e.createdAfter.toFixed(1)} s)`,
      baseline: reads ? `figure 3 ${rps(reads.createTask.rps)}` : '-',
      ratio: x.toFixed(2),
      target: '>= 0.50',
      met: x >= 0.5 && e2e.failed === 0,
    });
  }
  const live = f.live;
  if (live) {
    table.push({
      figure: `5 ${live.connections} graphql-ws subscribers`,
      measured: `p50 ${live.latencyMs.p50.toFixed(0)} ms, p99 ${live.latencyMs.p99.toFixed(0)} ms (taskEvents p99 ${live.eventLatencyMs.p99.toFixed(0)}, marketStats p99 ${live.statsLatencyMs.p99.toFixed(0)}); ${(live.bytesPerConnection / 1024).toFixed(1)} KB/conn`,
      baseline: `${live.received}/${live.expected} delivered`,
      ratio: '-',
      target: 'p99 < 250 ms; < 20 KB',
      met: live.latencyMs.p99 < 250 && live.bytesPerConnection < 20 * 1024 && live.received === live.expected,
    });
  }
  const provider = f.provider;
  if (provider) {
    const adaptive = provider.runs.find((r) => r.policy === 'adaptive');
    const others = provider.runs.filter((r) => r.policy !== 'adaptive');
    const goodput = adaptive ? adaptive.goodput / provider.requestsPerSecond : 0;
    const fewer429 = adaptive ? others.every((o) => adaptive.rateLimited * 3 <= o.rateLimited || o.failed > 0 || o.unfinished > 0) : false;
    table.push({
      figure: `6 goodput, R = ${provider.requestsPerSecond}/s (${adaptive?.tasks ?? 0} tasks)`,
      measured: provider.runs
        .map((r) => `${r.policy} ${r.goodput.toFixed(1)}/s, ${r.failed} failed, ${r.unfinished} unfinished, ${r.rateLimited} x 429`)
        .join('; '),
      baseline: `R = ${provider.requestsPerSecond}/s`,
      ratio: goodput.toFixed(2),
      target: '>= 0.95, 0 failed, far fewer 429s',
      met: goodput >= 0.95 && adaptive?.failed === 0 && adaptive.unfinished === 0 && fewer429,
    });
  }
  const memory = f.memory;
  if (memory || f.idleRss !== undefined) {
    const idle = f.idleRss === undefined ? '' : `idle ${mb(f.idleRss)}; `;
    const archive = memory
      ? `${mb(memory.rssIdle)} with ${memory.tasks} tasks, ${mb(memory.rssAfterReads)} after reads; tasks(first: 20) p50/p99 buyer ${memory.buyerTasks.latencyMs.p50}/${memory.buyerTasks.latencyMs.p99} ms, admin ${memory.adminTasks.latencyMs.p50}/${memory.adminTasks.latencyMs.p99} ms`
      : '';
    table.push({
      figure: `7 memory${memory ? ` (${memory.tasks} tasks in the db)` : ''}`,
      measured: `${idle}${archive}`,
      baseline: '-',
      ratio: '-',
      target: 'idle < 150 MB',
      met: f.idleRss !== undefined && f.idleRss < 150 * 1024 * 1024,
    });
  }
  const postgres = f.postgres;
  if (postgres) {
    const [one, three] = [1, 3].map((n) => postgres.runs.find((r) => r.instances === n));
    const clean = (r: (typeof postgres.runs)[number]) => r.failed === 0 && r.clientErrors === 0;
    const measured = (r: (typeof postgres.runs)[number]) =>
      `${r.perSecond.toFixed(1)}/s (${r.completed}/${r.tasks} in ${r.seconds.toFixed(1)} s; ${r.failed} failed, ${r.clientErrors} client errors, ` +
      `${r.deadlocks} deadlocks; lock waits ${(r.lockWaitShare * 100).toFixed(0)}%, counters row ${(r.counterWaitShare * 100).toFixed(0)}%)`;
    if (one) {
      table.push({
        figure: `8a PostgreSQL, 1 instance, provider 300-800 ms`,
        measured: measured(one),
        baseline: `bound ${one.bound.toFixed(1)}/s (${postgres.aiConcurrency} x 1 / ${postgres.meanLatencyS} s)`,
        ratio: one.ofBound.toFixed(2),
        target: '>= 0.80, 0 failed, 0 errors',
        met: one.ofBound >= 0.8 && clean(one),
      });
    }
    if (one && three) {
      const x = three.perSecond / one.perSecond;
      table.push({
        figure: `8b PostgreSQL, 3 instances, one database`,
        measured: `${measured(three)}; ${three.ofBound.toFixed(2)} of its bound ${three.bound.toFixed(1)}/s`,
        baseline: `1 instance ${one.perSecond.toFixed(1)}/s`,
        ratio: x.toFixed(2),
        target: '>= 2.0, 0 failed, 0 errors',
        met: x >= 2 && clean(three),
      });
    }
  }
  const burst = f.burst;
  if (burst) {
    const at = (second: number) => burst.after.find((s) => s.at === second);
    const [ten, thirty] = [at(10), at(30)];
    const failures = burst.load.reduce((n, l) => n + l.failures, 0);
    table.push({
      figure: `9 after a burst (${burst.subscribers} subscribers, ${burst.load.reduce((n, l) => n + l.rate, 0)} req/s, ${burst.seconds} s)`,
      measured:
        `RSS peak ${mb(burst.rssPeak)}, +10 s ${ten ? mb(ten.rss) : '-'}, +30 s ${thirty ? mb(thirty.rss) : '-'}; ` +
        `heap used ${mb(burst.heapBefore)} before, ${mb(burst.heapAtEnd)} at the end, ${thirty ? mb(thirty.heapUsed) : '-'} at +30 s; ` +
        `${burst.load.map((l) => `${l.name} ${rps(l.rps)}`).join(', ')}; ${failures} failed; ${burst.delivered} delivered`,
      baseline: `RSS before ${mb(burst.rssBefore)}`,
      ratio: burst.ratio.toFixed(2),
      target: '<= 1.20 at +30 s',
      met: burst.ratio <= 1.2 && failures === 0 && burst.subscriberErrors.length === 0,
    });
  }
  return table;
}

export function printTable(table: Row[]): string {
  const header = ['figure', 'measured', 'baseline', 'ratio', 'target', 'met'];
  const lines = table.map((r) => [r.figure, r.measured, r.baseline, r.ratio, r.target, r.met ? 'yes' : 'NO']);
  const md = [`| ${header.join(' | ')} |`, `|${header.map(() => '---').join('|')}|`, ...lines.map((l) => `| ${l.join(' | ')} |`)];
  return md.join('\n');
}

export function writeResults(f: Figures, table: Row[], seconds: number): string {
  const dir = new URL('../../bench-results/', import.meta.url);
  mkdirSync(dir, { recursive: true });
  const file = new URL('latest.json', dir);
  const machine = { cpus: cpus().length, model: cpus()[0]?.model ?? 'unknown', node: process.version, platform: `${process.platform} ${process.arch}` };
  writeFileSync(file, `${JSON.stringify({ date: new Date().toISOString(), machine, benchSeconds: seconds, table, figures: f }, null, 2)}\n`);
  return file.pathname;
}
