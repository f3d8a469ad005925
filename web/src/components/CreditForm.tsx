import { useState, type FormEvent } from 'react';
import type { FieldErrors } from '../errors.ts';
import { Field, FormError } from './ui.tsx';

interface CreditFormProps {
  userId: string;
  onUserIdChange: (userId: string) => void;
  busy: boolean;
  errors: FieldErrors;
  /** Text of the last successful credit, e.g. "Credited 1,000 sat to a@b.c". */
  done: string | null;
  onSubmit: (credit: { userId: string; amount: number }) => Promise<boolean>;
}

export function CreditForm({ userId, onUserIdChange, busy, errors, done, onSubmit }: CreditFormProps) {
  const [amount, setAmount] = useState('');
  const submit = async (event: FormEvent) => {
    event.preventDefault();
    if (busy) return;
    if (await onSubmit({ userId: userId.trim(), amount: amount.trim() === '' ? Number.NaN : Number(amount) })) setAmount('');
  };
  return (
    <form className="form" onSubmit={(e) => void submit(e)} data-testid="credit-form" aria-label="Credit a user" noValidate>
      <Field label="User ID" name="userId" error={errors['userId']} hint="Pick “Credit” next to a user in the list to fill it in.">
        {(p) => <input {...p} name="userId" required value={userId} onChange={(e) => onUserIdChange(e.target.value)} />}
      </Field>
      <Field label="Amount (sats)" name="amount" error={errors['amount']}>
        {(p) => <input {...p} name="amount" type="number" min={1} step={1} inputMode="numeric" required value={amount} onChange={(e) => setAmount(e.target.value)} />}
      </Field>
      <FormError message={errors['form']} />
      {done && (
        <p className="success" role="status" data-testid="credit-done">
          {done}
        </p>
      )}
      <button type="submit" className="primary" disabled={busy} data-testid="credit-submit">
        {busy ? 'Crediting…' : 'Credit account'}
      </button>
    </form>
  );
}
