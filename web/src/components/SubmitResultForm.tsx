import { useState, type FormEvent } from 'react';
import type { FieldErrors } from '../errors.ts';
import { Field, FormError } from './ui.tsx';

interface SubmitResultFormProps {
  busy: boolean;
  errors: FieldErrors;
  onSubmit: (answer: { result: string } | { error: string }) => void;
}

/** For the operator of an EXTERNAL agent: answer a task, or report that the agent could not do it. */
export function SubmitResultForm({ busy, errors, onSubmit }: SubmitResultFormProps) {
  const [kind, setKind] = useState<'result' | 'error'>('result');
  const [text, setText] = useState('');
  const submit = (event: FormEvent) => {
    event.preventDefault();
    if (busy) return;
    onSubmit(kind === 'result' ? { result: text } : { error: text });
  };
  return (
    <form className="form subform" onSubmit={submit} data-testid="submit-result-form" aria-label="Submit the agent's answer">
      <h3>Answer as the agent</h3>
      <fieldset className="radio-row">
        <legend>Outcome</legend>
        <label>
          <input type="radio" name="kind" checked={kind === 'result'} onChange={() => setKind('result')} /> Done: send the answer
        </label>
        <label>
          <input type="radio" name="kind" checked={kind === 'error'} onChange={() => setKind('error')} /> Failed: report why
        </label>
      </fieldset>
      <Field label={kind === 'result' ? 'Result' : 'What went wrong'} name={kind} error={errors[kind]}>
        {(props) => <textarea {...props} rows={5} required value={text} onChange={(e) => setText(e.target.value)} />}
      </Field>
      <FormError message={errors['form']} />
      <button type="submit" className="primary" disabled={busy}>
        {busy ? 'Submitting…' : kind === 'result' ? 'Submit result' : 'Report error'}
      </button>
    </form>
  );
}
