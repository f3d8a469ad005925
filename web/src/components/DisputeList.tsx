import { useState, type FormEvent } from 'react';
import type { FieldErrors } from '../errors.ts';
import { formatDateTime, formatSats } from '../format.ts';
import { Empty, Field, FormError } from './ui.tsx';

export interface OpenDispute {
  id: string;
  title: string;
  price: number | null;
  /** What the escrow holds: the buyer gets back all of it the agent's share does not take. */
  maxPrice: number;
  buyer: { email: string };
  agent: { name: string } | null;
  dispute: { reason: string; openedAt: string } | null;
}

/** Resolves to the problems to show (none: resolved). */
export type ResolveHandler = (taskId: string, decision: { agentShareBps: number; note: string }) => Promise<FieldErrors>;

/** "50" -> 5000 basis points; null when it is not a share the API can take (0..100 % in steps of 0.01 %). */
export function percentToBps(text: string): number | null {
  if (text.trim() === '') return null;
  const bps = Number(text) * 100;
  const whole = Math.round(bps);
  return Number.isFinite(bps) && Math.abs(bps - whole) < 1e-6 && whole >= 0 && whole <= 10_000 ? whole : null;
}

function ResolveForm({ task, onResolve }: { task: OpenDispute; onResolve: ResolveHandler }) {
  const [percent, setPercent] = useState('');
  const [note, setNote] = useState('');
  const [errors, setErrors] = useState<FieldErrors>({});
  const [busy, setBusy] = useState(false);
  const bps = percentToBps(percent);
  // An error goes once its field is edited: it spoke of the value that was there.
  const edit = (field: string, set: (value: string) => void) => (value: string) => {
    set(value);
    setErrors(({ [field]: _gone, ...rest }) => rest);
  };
  const onPercent = edit('agentShareBps', setPercent);
  const onNote = edit('note', setNote);
  const share = bps != null && task.price != null ? Math.floor((task.price * bps) / 10_000) : null;

  const submit = async (event: FormEvent) => {
    event.preventDefault();
    if (busy) return;
    // Every problem at once, as the server would report them.
    const local: FieldErrors = {
      ...(bps == null && { agentShareBps: 'A share from 0 to 100 %, at most two decimals.' }),
      ...(note.trim() === '' && { note: 'Say why, for the buyer and the agent.' }),
    };
    setErrors(local);
    if (bps == null || Object.keys(local).length > 0) return;
    setBusy(true);
    setErrors(await onResolve(task.id, { agentShareBps: bps, note }));
    setBusy(false);
  };

  return (
    <form className="form resolve-form" onSubmit={(e) => void submit(e)} aria-label={`Resolve the dispute on ${task.title}`} data-testid="resolve-form" noValidate>
      <div className="form-row">
        <Field
          label="Agent's share (%)"
          name="agentShareBps"
          error={errors['agentShareBps']}
          hint={share != null && task.price != null ? `Agent ${formatSats(share)} (fee taken from it), buyer back ${formatSats(task.maxPrice - share)}.` : 'The rest goes back to the buyer.'}
        >
          {(p) => <input {...p} name="agentShare" type="number" min={0} max={100} step={0.01} inputMode="decimal" value={percent} onChange={(e) => onPercent(e.target.value)} />}
        </Field>
        <Field label="Note" name="note" error={errors['note']}>
          {(p) => <textarea {...p} name="note" rows={2} value={note} onChange={(e) => onNote(e.target.value)} />}
        </Field>
      </div>
      <FormError message={errors['form']} />
      <button type="submit" className="primary" disabled={busy} data-testid="resolve-submit">
        {busy ? 'Resolving…' : 'Resolve dispute'}
      </button>
    </form>
  );
}

/** Disputed tasks, oldest dispute first, each with why the buyer disputed it and a form to decide it. */
export function DisputeList({ disputes, onResolve, onOpen }: { disputes: readonly OpenDispute[]; onResolve: ResolveHandler; onOpen: (taskId: string) => void }) {
  if (disputes.length === 0) return <Empty>No open disputes.</Empty>;
  return (
    <ul className="dispute-list" data-testid="dispute-list">
      {disputes.map((task) => (
        <li key={task.id} className="dispute-item" data-testid="dispute-item" data-task-id={task.id}>
          <div className="dispute-head">
            <button type="button" className="link task-title" onClick={() => onOpen(task.id)} aria-haspopup="dialog">
              {task.title}
            </button>
            <span className="num" data-testid="dispute-price">{formatSats(task.price)}</span>
          </div>
          <p className="muted small">
            Buyer <span data-testid="dispute-buyer">{task.buyer.email}</span> · agent <span data-testid="dispute-agent">{task.agent?.name ?? '—'}</span>
            {task.dispute && <> · opened {formatDateTime(task.dispute.openedAt)}</>}
          </p>
          {task.dispute && <pre className="text-block" data-testid="dispute-reason">{task.dispute.reason}</pre>}
          <ResolveForm task={task} onResolve={onResolve} />
        </li>
      ))}
    </ul>
  );
}
