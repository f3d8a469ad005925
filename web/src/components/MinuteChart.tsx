import type { Point, SeriesWindow } from '../series.ts';

const W = 600;
const H = 180;
const PAD = { top: 14, right: 8, bottom: 30, left: 64 };
const plotW = W - PAD.left - PAD.right;
const plotH = H - PAD.top - PAD.bottom;

/**
 * A round top for the y axis: 7 -> 10, 130 -> 200, 4_100_000 -> 5_000_000. For counts, the midline must be
 * a whole number too, so the top is even: 2, 4, 6, 10, 20, 40, ...
 */
function niceCeiling(value: number, integer: boolean): number {
  if (value <= (integer ? 2 : 1)) return integer ? 2 : 1;
  // Whole numbers only: with a top of 2.5 the midline would read 1.25.
  const magnitude = 10 ** Math.floor(Math.log10(value));
  for (const step of integer ? [1, 2, 4, 6, 10] : [1, 2, 2.5, 5, 10]) if (step * magnitude >= value && (!integer || Number.isInteger((step * magnitude) / 2))) return step * magnitude;
  return 10 * magnitude;
}

const minuteLabel = new Intl.DateTimeFormat(undefined, { hour: '2-digit', minute: '2-digit' });

interface MinuteChartProps {
  title: string;
  points: readonly Point[];
  /** Value for axis labels and tooltips. */
  format: (value: number) => string;
  /** Unit word for the accessible summary, e.g. "tasks". */
  unit: string;
  variant: 'bars' | 'area';
  /** Whole-number values (counts, sats): axis ticks are whole numbers too. */
  integer?: boolean;
  /** What the points cover, for the caption and the time axis. */
  window: SeriesWindow;
  testId: string;
}

/** A hand-written SVG chart of one value per minute (no chart library: the first-load budget is 150 KB). */
export function MinuteChart({ title, points, format, unit, variant, integer = false, window, testId }: MinuteChartProps) {
  const max = niceCeiling(Math.max(0, ...points.map((p) => p.value)), integer);
  const total = points.reduce((sum, p) => sum + p.value, 0);
  const slot = plotW / Math.max(points.length, 1);
  const x = (i: number) => PAD.left + i * slot;
  const y = (value: number) => PAD.top + plotH - (value / max) * plotH;
  const per = window.bucket === 1 ? 'one minute' : `${window.bucket} minutes`;
  const summary = `${title}: ${format(total)} ${unit} in the last ${window.label}, at most ${format(Math.max(0, ...points.map((p) => p.value)))} in ${per}.`;
  const half = window.minutes >= 120 ? `−${window.minutes / 120} h` : `−${window.minutes / 2} min`;

  const line = points.map((p, i) => `${i === 0 ? 'M' : 'L'}${(x(i) + slot / 2).toFixed(1)},${y(p.value).toFixed(1)}`).join(' ');
  const area = points.length
    ? `${line} L${(x(points.length - 1) + slot / 2).toFixed(1)},${y(0)} L${(x(0) + slot / 2).toFixed(1)},${y(0)} Z`
    : '';

  return (
    <figure className="chart" data-testid={testId} data-total={total} data-window={window.id}>
      <figcaption>
        <span className="chart-title">{title}</span>
        <span className="chart-total">
          {format(total)} {unit} · {window.label}
        </span>
      </figcaption>
      <svg viewBox={`0 0 ${W} ${H}`} role="img" aria-label={summary}>
        {[0, 0.5, 1].map((f) => (
          <g key={f} className="chart-grid">
            <line x1={PAD.left} x2={W - PAD.right} y1={y(max * f)} y2={y(max * f)} />
            <text x={PAD.left - 6} y={y(max * f)} dy="0.32em" textAnchor="end">
              {format(max * f)}
            </text>
          </g>
        ))}
        {variant === 'bars' &&
          points.map((p, i) =>
            p.value > 0 ? (
              <rect key={p.at} className="chart-bar" x={x(i) + 1.5} width={Math.max(slot - 3, 1)} y={y(p.value)} height={y(0) - y(p.value)}>
                <title>{`${minuteLabel.format(p.at)}: ${format(p.value)} ${unit}`}</title>
              </rect>
            ) : null,
          )}
        {variant === 'area' && (
          <>
            <path className="chart-area" d={area} />
            <path className="chart-line" d={line} />
            {points.map((p, i) =>
              p.value > 0 ? (
                <circle key={p.at} className="chart-dot" cx={x(i) + slot / 2} cy={y(p.value)} r={3}>
                  <title>{`${minuteLabel.format(p.at)}: ${format(p.value)} ${unit}`}</title>
                </circle>
              ) : null,
            )}
          </>
        )}
        <g className="chart-axis">
          <text x={PAD.left} y={H - 6}>
            −{window.label}
          </text>
          <text x={PAD.left + plotW / 2} y={H - 6} textAnchor="middle">
            {half}
          </text>
          <text x={W - PAD.right} y={H - 6} textAnchor="end">
            now
          </text>
        </g>
      </svg>
    </figure>
  );
}
