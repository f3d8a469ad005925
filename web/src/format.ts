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
