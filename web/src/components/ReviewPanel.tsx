import { useId, useState, type FormEvent } from 'react';
import type { FieldErrors } from '../errors.ts';
import { ReviewCountdown } from './ReviewCountdown.tsx';
import { Field, FormError } from './ui.tsx';

export type ReviewAction = 'accept' | 'changes' | 'dispute';

interface ReviewPanelProps {
  reviewDeadline: string | null;
  /** How many times the buyer has already sent this task back (the API does not say how many are allowed). */
  changesUsed: number;
  /** The action in flight, if any: every button waits for it. */
  busy: ReviewAction | null;
  /** `feedback` and `reason` next to their boxes; anything else under `form`. */
  errors: FieldErrors;
  onAccept: () => void;
  /** Resolve true when the server took it, to clear the box. */
  onRequestChanges: (feedback: string) => Promise<boolean>;
  onOpenDispute: (reason: string) => Promise<boolean>;
}

/** For the buyer of a DELIVERED task: accept and pay, send it back with feedback, or dispute it. */
export function ReviewPanel({ reviewDeadline, changesUsed, busy, errors, onAccept, onRequestChanges, onOpenDispute }: ReviewPanelProps) {
  const headingId = useId();
  const [feedback, setFeedback] = useState('');
  const [reason, setReason] = useState('');
  const submit = async (event: FormEvent, send: (text: string) => Promise<boolean>, text: string, clear: () => void) => {
    event.preventDefault();
    if (busy) return;
    if (await send(text)) clear();
  };
  const asked = changesUsed === 0 ? 'You have not asked for changes yet.' : `You have asked for changes ${changesUsed} time${changesUsed === 1 ? '' : 's'}.`;
  return (
    <section className="review" aria-labelledby={headingId} data-testid="review-panel">
      <h3 id={headingId}>Review the result</h3>
      {reviewDeadline && <ReviewCountdown deadline={reviewDeadline} />}
      <div className="dialog-actions">
        <button type="button" className="primary" onClick={onAccept} disabled={busy != null} data-testid="review-accept">
          {busy === 'accept' ? 'Accepting…' : 'Accept and pay the agent'}
        </button>
      </div>
      <FormError message={errors['form']} />
      <div className="review-forms">
        <form className="form subform" onSubmit={(e) => void submit(e, onRequestChanges, feedback, () => setFeedback(''))} aria-label="Request changes" data-testid="request-changes-form" noValidate>
          <h4>Request changes</h4>
          <Field label="What should change" name="feedback" error={errors['feedback']} hint={`The same agent reworks it at the agreed price. ${asked}`}>
            {(p) => <textarea {...p} name="feedback" rows={3} required value={feedback} onChange={(e) => setFeedback(e.target.value)} />}
          </Field>
          <button type="submit" disabled={busy != null} data-testid="request-changes-submit">
            {busy === 'changes' ? 'Sending…' : 'Send back for changes'}
          </button>
        </form>
        <form className="form subform" onSubmit={(e) => void submit(e, onOpenDispute, reason, () => setReason(''))} aria-label="Open a dispute" data-testid="open-dispute-form" noValidate>
          <h4>Open a dispute</h4>
          <Field label="Why you dispute it" name="reason" error={errors['reason']} hint="The escrow stays frozen until an admin decides how to split it.">
            {(p) => <textarea {...p} name="reason" rows={3} required value={reason} onChange={(e) => setReason(e.target.value)} />}
          </Field>
          <button type="submit" className="danger" disabled={busy != null} data-testid="open-dispute-submit">
            {busy === 'dispute' ? 'Opening…' : 'Open dispute'}
          </button>
        </form>
      </div>
    </section>
  );
}
