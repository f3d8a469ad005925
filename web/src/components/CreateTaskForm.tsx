import { useEffect, useState, type FormEvent } from 'react';
import type { FieldErrors } from '../errors.ts';
import { formatReputation, formatSats, parseSkills } from '../format.ts';
import { Field, FormError } from './ui.tsx';

export interface TaskDraft {
  prompt: string;
  skills: string[];
  /** null: estimated by the server from the prompt. */
  complexity: number | null;
}

export interface NewTask extends TaskDraft {
  title: string;
  maxPrice: number;
}

export interface QuoteView {
  fetching: boolean;
  error: string | null;
  quote: { complexity: number; price: number | null; agent: { name: string; reputation: number } | null } | null;
}

interface CreateTaskFormProps {
  busy: boolean;
  errors: FieldErrors;
  quote: QuoteView;
  /** Called as the user types; the page debounces it into a `quote` query. */
  onDraftChange: (draft: TaskDraft) => void;
  /** Resolves true when the task was created, to clear the form. */
  onSubmit: (task: NewTask) => Promise<boolean>;
}

function QuoteLine({ quote, maxPrice }: { quote: QuoteView; maxPrice: number | null }) {
  if (quote.error) return <span className="muted">Quote unavailable: {quote.error}</span>;
  if (!quote.quote) return <span className="muted">{quote.fetching ? 'Getting a quote…' : 'Type a prompt to get a live quote.'}</span>;
  const { agent, price, complexity } = quote.quote;
  if (!agent || price == null) {
    return <span>No agent fits right now (complexity {complexity}); the task would wait until one is free.</span>;
  }
  return (
    <span>
      <strong data-testid="quote-agent">{agent.name}</strong> ({formatReputation(agent.reputation)}) would do it for{' '}
      <strong data-testid="quote-price">{formatSats(price)}</strong> at complexity {complexity}.
      {maxPrice != null && price > maxPrice && <span className="warn-text"> That is above your max price.</span>}
      {quote.fetching && <span className="muted"> Updating…</span>}
    </span>
  );
}

export function CreateTaskForm({ busy, errors, quote, onDraftChange, onSubmit }: CreateTaskFormProps) {
  const [title, setTitle] = useState('');
  const [prompt, setPrompt] = useState('');
  const [skills, setSkills] = useState('');
  const [complexity, setComplexity] = useState('auto');
  const [maxPrice, setMaxPrice] = useState('');

  useEffect(() => {
    onDraftChange({ prompt, skills: parseSkills(skills), complexity: complexity === 'auto' ? null : Number(complexity) });
  }, [prompt, skills, complexity, onDraftChange]);

  const maxPriceNumber = maxPrice.trim() === '' ? null : Number(maxPrice);

  const submit = async (event: FormEvent) => {
    event.preventDefault();
    if (busy) return; // a double click while the first submit is in flight does nothing
    const created = await onSubmit({
      title: title.trim(),
      prompt,
      skills: parseSkills(skills),
      complexity: complexity === 'auto' ? null : Number(complexity),
      maxPrice: maxPriceNumber ?? Number.NaN,
    });
    if (created) {
      setTitle('');
      setPrompt('');
    }
  };

  return (
    <form className="form" onSubmit={(e) => void submit(e)} data-testid="create-task-form" aria-label="Create a task" noValidate>
      <Field label="Title" name="title" error={errors['title']}>
        {(p) => <input {...p} name="title" required maxLength={200} value={title} onChange={(e) => setTitle(e.target.value)} />}
      </Field>
      <Field label="Prompt" name="prompt" error={errors['prompt']} hint="What the agent should do. Shown to the agent as plain text.">
        {(p) => <textarea {...p} name="prompt" required rows={5} value={prompt} onChange={(e) => setPrompt(e.target.value)} />}
      </Field>
      <div className="form-row">
        <Field label="Skills" name="skills" error={errors['skills']} hint="Comma-separated, e.g. writing, python">
          {(p) => <input {...p} name="skills" value={skills} onChange={(e) => setSkills(e.target.value)} />}
        </Field>
        <Field label="Complexity" name="complexity" error={errors['complexity']}>
          {(p) => (
            <select {...p} name="complexity" value={complexity} onChange={(e) => setComplexity(e.target.value)}>
              <option value="auto">Automatic (estimated)</option>
              {Array.from({ length: 10 }, (_, i) => (
                <option key={i + 1} value={String(i + 1)}>
                  {i + 1}
                  {i === 0 ? ' (trivial)' : i === 9 ? ' (hardest)' : ''}
                </option>
              ))}
            </select>
          )}
        </Field>
        <Field label="Max price (sats)" name="maxPrice" error={errors['maxPrice']} hint="Held in escrow until the task ends.">
          {(p) => (
            <input {...p} name="maxPrice" type="number" inputMode="numeric" min={1} step={1} required value={maxPrice} onChange={(e) => setMaxPrice(e.target.value)} />
          )}
        </Field>
      </div>
      <div className="quote" data-testid="quote" aria-live="polite">
        <QuoteLine quote={quote} maxPrice={maxPriceNumber} />
      </div>
      <FormError message={errors['form']} />
      <button type="submit" className="primary" disabled={busy} data-testid="create-task-submit">
        {busy ? 'Posting…' : 'Post task'}
      </button>
    </form>
  );
}
