/**
 * What two V8 heap snapshots (.heapsnapshot, e.g. figure 9's with BENCH_HEAP_SNAPSHOTS=1) hold, by class:
 * live objects' count and self size per constructor name (strings, arrays, code and closures grouped by
 * their kind), the second snapshot against the first, largest growth first.
 *
 *   node --import tsx scripts/bench/heap-summary.ts before.heapsnapshot after.heapsnapshot [rows]
 *
 * A snapshot holds only what is reachable (V8 collects garbage before writing it), so growth here is
 * retained memory, not garbage waiting for a collection.
 */
import { readFileSync } from 'node:fs';

interface Snapshot {
  snapshot: { meta: { node_fields: string[]; node_types: [string[], ...unknown[]] } };
  nodes: number[];
  strings: string[];
}

export interface ClassTotal {
  name: string;
  count: number;
  bytes: number;
}

/** Live objects by class in one snapshot file. */
export function byClass(file: string): Map<string, ClassTotal> {
  const data = JSON.parse(readFileSync(file, 'utf8')) as Snapshot;
  const fields = data.snapshot.meta.node_fields;
  const types = data.snapshot.meta.node_types[0];
  const [typeAt, nameAt, sizeAt] = ['type', 'name', 'self_size'].map((f) => fields.indexOf(f)) as [number, number, number];
  const totals = new Map<string, ClassTotal>();
  for (let i = 0; i < data.nodes.length; i += fields.length) {
    const type = types[data.nodes[i + typeAt] ?? 0] ?? '?';
    const name = type === 'object' || type === 'native' ? (data.strings[data.nodes[i + nameAt] ?? 0] ?? '?') : `(${type})`;
    const total = totals.get(name) ?? { name, count: 0, bytes: 0 };
    total.count += 1;
    total.bytes += data.nodes[i + sizeAt] ?? 0;
    totals.set(name, total);
  }
  return totals;
}

const sum = (m: Map<string, ClassTotal>) => [...m.values()].reduce((n, t) => n + t.bytes, 0);
const mb = (bytes: number) => `${(bytes / 1024 / 1024).toFixed(1)} MB`;

if (import.meta.url === `file://${process.argv[1]}`) {
  const [beforeFile, afterFile, rows = '20'] = process.argv.slice(2);
  if (!beforeFile || !afterFile) throw new Error('usage: heap-summary.ts before.heapsnapshot after.heapsnapshot [rows]');
  const before = byClass(beforeFile);
  const after = byClass(afterFile);
  console.log(`live heap: ${mb(sum(before))} before, ${mb(sum(after))} after\n`);
  console.log('| class | count before | count after | self size before | self size after | growth |');
  console.log('|---|---|---|---|---|---|');
  const growth = [...after.values()]
    .map((a) => ({ a, b: before.get(a.name) ?? { name: a.name, count: 0, bytes: 0 } }))
    .sort((x, y) => y.a.bytes - y.b.bytes - (x.a.bytes - x.b.bytes))
    .slice(0, Number(rows));
  for (const { a, b } of growth) console.log(`| ${a.name} | ${b.count} | ${a.count} | ${mb(b.bytes)} | ${mb(a.bytes)} | ${mb(a.bytes - b.bytes)} |`);
}
