import { useEffect, useMemo } from 'react';
import { useQuery } from 'urql';
import { graphql } from './graphql.ts';
import { useThrottledCallback } from './hooks.ts';

/**
 * Per-minute history for the overview charts, from the server's own records (MarketStats.series): the
 * same for every visitor, kept across restarts. Refetched when the live stats move (at most every 2 s)
 * and once a minute, so the window slides even when nothing happens.
 */

export interface Point {
  /** Start of the bucket, epoch ms. */
  at: number;
  value: number;
}

export interface SeriesWindow {
  id: '30m' | '24h';
  label: string;
  minutes: number;
  /** Minutes per bar: a day of single minutes would be 1440 hairlines. */
  bucket: number;
}

export const WINDOWS: readonly SeriesWindow[] = [
  { id: '30m', label: '30 min', minutes: 30, bucket: 1 },
  { id: '24h', label: '24 h', minutes: 1440, bucket: 30 },
];

const SeriesQuery = graphql(`
  query MarketSeries($minutes: Int!) {
    marketStats { series(minutes: $minutes) { at completed paid } }
  }
`);

export interface MarketSeries {
  completed: Point[];
  paid: Point[];
  loading: boolean;
}

/** `changed` is anything that differs after the market moved (e.g. the completed count). */
export function useMarketSeries(window: SeriesWindow, changed: unknown): MarketSeries {
  const [result, refetch] = useQuery({ query: SeriesQuery, variables: { minutes: window.minutes }, requestPolicy: 'cache-and-network' });
  const refresh = useThrottledCallback(() => refetch({ requestPolicy: 'network-only' }), 2000);
  useEffect(() => {
    if (changed !== undefined) refresh();
  }, [changed, refresh]);
  useEffect(() => {
    const timer = setInterval(refresh, 60_000);
    return () => clearInterval(timer);
  }, [refresh]);

  const rows = result.data?.marketStats.series;
  return useMemo(() => {
    const completed: Point[] = [];
    const paid: Point[] = [];
    (rows ?? []).forEach((row, i) => {
      const at = Date.parse(row.at);
      if (i % window.bucket === 0) {
        completed.push({ at, value: 0 });
        paid.push({ at, value: 0 });
      }
      const c = completed.at(-1);
      const p = paid.at(-1);
      if (c && p) {
        c.value += row.completed;
        p.value += row.paid;
      }
    });
    return { completed, paid, loading: !rows && result.fetching };
  }, [rows, window.bucket, result.fetching]);
}
