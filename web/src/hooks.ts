import { useEffect, useRef, useState } from 'react';

/** `value`, once it has stopped changing for `delayMs`. */
export function useDebouncedValue<T>(value: T, delayMs: number): T {
  const [debounced, setDebounced] = useState(value);
  useEffect(() => {
    const timer = setTimeout(() => setDebounced(value), delayMs);
    return () => clearTimeout(timer);
  }, [value, delayMs]);
  return debounced;
}

/** Calls `fn` at most once per `delayMs`, trailing: bursts of events cause one refetch. */
export function useThrottledCallback(fn: () => void, delayMs: number): () => void {
  const latest = useRef(fn);
  const timer = useRef<ReturnType<typeof setTimeout> | undefined>(undefined);
  useEffect(() => {
    latest.current = fn;
  }, [fn]);
  useEffect(() => () => clearTimeout(timer.current), []);
  const [schedule] = useState(() => () => {
    if (timer.current !== undefined) return;
    timer.current = setTimeout(() => {
      timer.current = undefined;
      latest.current();
    }, delayMs);
  });
  return schedule;
}

/** Runs `fn` whenever the connection epoch moves past the first connection (i.e. after a reconnect). */
export function useOnReconnect(epoch: number, fn: () => void): void {
  const latest = useRef(fn);
  const first = useRef(epoch);
  useEffect(() => {
    latest.current = fn;
  }, [fn]);
  useEffect(() => {
    if (epoch > first.current) latest.current();
  }, [epoch]);
}

/** Ticks every `intervalMs`, for clocks and sliding chart windows. */
export function useNow(intervalMs: number): number {
  const [now, setNow] = useState(() => Date.now());
  useEffect(() => {
    const timer = setInterval(() => setNow(Date.now()), intervalMs);
    return () => clearInterval(timer);
  }, [intervalMs]);
  return now;
}
