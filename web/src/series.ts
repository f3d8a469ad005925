import { useCallback, useEffect, useRef, useState } from 'react';

/**
 * Per-minute history of completed tasks and sats paid, for the overview charts.
 *
 * The API has no history endpoint; `marketStats` pushes running totals. The difference between two
 * consecutive pushes is what happened since, credited to the minute it arrived in. The buckets live in
 * localStorage so a reload keeps the last 30 minutes; a gap longer than GAP_MS (the page was closed) is not
 * attributed to any minute, since we cannot know when it happened. Admins, who may list every task,
 * additionally seed minutes nobody observed from the completed tasks' `completedAt` and price.
 */

export const WINDOW_MINUTES = 30;
const MINUTE = 60_000;
const GAP_MS = 2 * MINUTE;
const STORAGE_KEY = 'aicp.series.v1';

export interface Point {
  /** Start of the minute, epoch ms. */
  at: number;
  value: number;
}

interface Totals {
  completed: number;
  paid: number;
  at: number;
}

interface SeriesState {
  /** minute index (epoch ms / 60000) -> [completed, sats] */
  buckets: Record<number, [number, number]>;
  last: Totals | null;
}

function isTuple(value: unknown): value is [number, number] {
  return Array.isArray(value) && value.length === 2 && value.every((n) => typeof n === 'number' && n >= 0);
}

function load(): SeriesState {
  try {
    const raw: unknown = JSON.parse(localStorage.getItem(STORAGE_KEY) ?? 'null');
    if (typeof raw !== 'object' || raw === null) return { buckets: {}, last: null };
    const { buckets, last } = raw as { buckets?: unknown; last?: unknown };
    const clean: Record<number, [number, number]> = {};
    if (typeof buckets === 'object' && buckets !== null) {
      for (const [minute, value] of Object.entries(buckets)) if (isTuple(value)) clean[Number(minute)] = value;
    }
    const lastOk =
      typeof last === 'object' && last !== null &&
      ['completed', 'paid', 'at'].every((k) => typeof (last as Record<string, unknown>)[k] === 'number');
    return { buckets: clean, last: lastOk ? (last as Totals) : null };
  } catch {
    return { buckets: {}, last: null };
  }
}

function prune(state: SeriesState, now: number): SeriesState {
  const oldest = Math.floor(now / MINUTE) - WINDOW_MINUTES;
  const buckets: Record<number, [number, number]> = {};
  for (const [minute, value] of Object.entries(state.buckets)) if (Number(minute) > oldest) buckets[Number(minute)] = value;
  return { ...state, buckets };
}

function save(state: SeriesState): void {
  try {
    localStorage.setItem(STORAGE_KEY, JSON.stringify(state));
  } catch {
    // storage full or disabled: the charts just start empty next time
  }
}

export interface MarketSeries {
  completedPerMinute: Point[];
  satsPerMinute: Point[];
  /** Adds history for minutes that have no observation yet (admin seed). */
  seed(entries: ReadonlyArray<{ at: string | null; sats: number | null }>): void;
}

export function useMarketSeries(totals: { completed: number; paid: number } | null, now: number): MarketSeries {
  const [state, setState] = useState<SeriesState>(() => prune(load(), Date.now()));
  const firstObserved = useRef<number | null>(null);
  /** Set once this page has seen a push: from then on every difference is attributable, however late. */
  const observing = useRef(false);

  useEffect(() => {
    if (!totals) return;
    const at = Date.now();
    firstObserved.current ??= Math.floor(at / MINUTE);
    const wasObserving = observing.current;
    setState((prev) => {
      const next = prune(prev, at);
      const last = prev.last;
      const continuous = wasObserving || (last !== null && at - last.at <= GAP_MS);
      if (last && continuous && totals.completed >= last.completed && totals.paid >= last.paid) {
        const dc = totals.completed - last.completed;
        const ds = totals.paid - last.paid;
        if (dc > 0 || ds > 0) {
          const minute = Math.floor(at / MINUTE);
          const [c, s] = next.buckets[minute] ?? [0, 0];
          next.buckets[minute] = [c + dc, s + ds];
        }
      }
      next.last = { completed: totals.completed, paid: totals.paid, at };
      save(next);
      return next;
    });
    observing.current = true;
  }, [totals?.completed, totals?.paid]);

  // While observing, keep the stored `last.at` fresh: a reload soon after is then not mistaken for a gap.
  useEffect(() => {
    if (!observing.current) return;
    setState((prev) => {
      if (!prev.last) return prev;
      const next = { ...prev, last: { ...prev.last, at: now } };
      save(next);
      return next;
    });
  }, [now]);

  const seed = useCallback((entries: ReadonlyArray<{ at: string | null; sats: number | null }>) => {
    setState((prev) => {
      const limit = firstObserved.current ?? Math.floor(Date.now() / MINUTE);
      const oldest = limit - WINDOW_MINUTES;
      const added: Record<number, [number, number]> = {};
      for (const entry of entries) {
        const at = entry.at ? Date.parse(entry.at) : NaN;
        if (!Number.isFinite(at)) continue;
        const minute = Math.floor(at / MINUTE);
        if (minute <= oldest || minute >= limit || prev.buckets[minute]) continue;
        const [c, s] = added[minute] ?? [0, 0];
        added[minute] = [c + 1, s + (entry.sats ?? 0)];
      }
      if (Object.keys(added).length === 0) return prev;
      const next = { ...prev, buckets: { ...prev.buckets, ...added } };
      save(next);
      return next;
    });
  }, []);

  // `now` ticks slowly; a push may already have landed in the next minute, which must be on the chart.
  const current = Math.floor(Math.max(now, state.last?.at ?? 0) / MINUTE);
  const completedPerMinute: Point[] = [];
  const satsPerMinute: Point[] = [];
  for (let minute = current - WINDOW_MINUTES + 1; minute <= current; minute++) {
    const [c, s] = state.buckets[minute] ?? [0, 0];
    completedPerMinute.push({ at: minute * MINUTE, value: c });
    satsPerMinute.push({ at: minute * MINUTE, value: s });
  }
  return { completedPerMinute, satsPerMinute, seed };
}
