const integer = new Intl.NumberFormat('en-US', { maximumFractionDigits: 0 });
const compact = new Intl.NumberFormat('en-US', { notation: 'compact', maximumFractionDigits: 1 });

/** 1234567 -> "1,234,567 sat". */
export function formatSats(value: number | null | undefined): string {
  return value == null ? '—' : `${integer.format(value)} sat`;
}

/** For chart axes: 1234567 -> "1.2M". */
export function formatCompact(value: number): string {
  return compact.format(value);
}

export function formatInt(value: number): string {
  return integer.format(value);
}

/** The reputation multiplier: 2 -> "2.00x". */
export function formatReputation(value: number): string {
  return `${value.toFixed(2)}x`;
}

/** A 0..1 ratio as a percentage: 0.953 -> "95.3%". */
export function formatPercent(ratio: number): string {
  const percent = ratio * 100;
  return `${Number.isInteger(percent) ? percent.toFixed(0) : percent.toFixed(1)}%`;
}

/** "—" before any outcome: 0 of 0 is no track record, not a 0% one. */
export function formatSuccessRate(agent: { successRate: number; tasksCompleted: number; tasksFailed: number }): string {
  return agent.tasksCompleted + agent.tasksFailed === 0 ? '—' : formatPercent(agent.successRate);
}

export function formatUptime(seconds: number): string {
  const s = Math.floor(seconds);
  const d = Math.floor(s / 86_400);
  const h = Math.floor((s % 86_400) / 3600);
  const m = Math.floor((s % 3600) / 60);
  if (d > 0) return `${d}d ${h}h ${m}m`;
  if (h > 0) return `${h}h ${m}m`;
  if (m > 0) return `${m}m ${s % 60}s`;
  return `${s}s`;
}

const timeFormat = new Intl.DateTimeFormat(undefined, { hour: '2-digit', minute: '2-digit', second: '2-digit' });
const dateTimeFormat = new Intl.DateTimeFormat(undefined, { month: 'short', day: 'numeric', hour: '2-digit', minute: '2-digit', second: '2-digit' });

export function formatTime(iso: string): string {
  const at = new Date(iso);
  return Number.isNaN(at.getTime()) ? iso : timeFormat.format(at);
}

export function formatDateTime(iso: string | null | undefined): string {
  if (!iso) return '—';
  const at = new Date(iso);
  return Number.isNaN(at.getTime()) ? iso : dateTimeFormat.format(at);
}

/**
 * Time left on a countdown, rounded up to the second so it reads 0:00 only when the time is really up:
 * 272_000 -> "4:32", 3_723_000 -> "1:02:03", 90_061_000 -> "1 d 1:01:01".
 */
export function formatCountdown(ms: number): string {
  const total = Math.max(0, Math.ceil(ms / 1000));
  const days = Math.floor(total / 86_400);
  const hours = Math.floor((total % 86_400) / 3600);
  const minutes = Math.floor((total % 3600) / 60);
  const seconds = String(total % 60).padStart(2, '0');
  const clock = days > 0 || hours > 0 ? `${hours}:${String(minutes).padStart(2, '0')}:${seconds}` : `${minutes}:${seconds}`;
  return days > 0 ? `${days} d ${clock}` : clock;
}

/** Basis points as a percentage: 5000 -> "50%", 3333 -> "33.33%". */
export function formatBps(bps: number): string {
  return `${(bps / 100).toFixed(2).replace(/\.?0+$/, '')}%`;
}

/** "a, b ,c" -> ["a", "b", "c"]; empty entries dropped, duplicates removed. */
export function parseSkills(text: string): string[] {
  return [...new Set(text.split(',').map((s) => s.trim()).filter(Boolean))];
}

/**
 * A v4 UUID for idempotency keys and credit references. `crypto.randomUUID` exists only in secure contexts
 * (https, localhost); the dashboard may be opened over plain http on a LAN address, so fall back to
 * getRandomValues, which is available everywhere.
 */
export function uuid(): string {
  if (typeof crypto.randomUUID === 'function' && window.isSecureContext) return crypto.randomUUID();
  const bytes = crypto.getRandomValues(new Uint8Array(16));
  bytes[6] = ((bytes[6] ?? 0) & 0x0f) | 0x40;
  bytes[8] = ((bytes[8] ?? 0) & 0x3f) | 0x80;
  const hex = [...bytes].map((b) => b.toString(16).padStart(2, '0')).join('');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}
