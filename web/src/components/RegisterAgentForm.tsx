import { useState, type FormEvent } from 'react';
import type { FieldErrors } from '../errors.ts';
import type { AgentMode } from '../graphql.ts';
import { parseSkills } from '../format.ts';
import { Field, FormError } from './ui.tsx';

export interface NewAgent {
  name: string;
  skills: string[];
  model: string | null;
  mode: AgentMode;
  askPerUnit: number | null;
  maxConcurrency: number | null;
  systemPrompt: string | null;
}

interface RegisterAgentFormProps {
  busy: boolean;
  errors: FieldErrors;
  onSubmit: (agent: NewAgent) => Promise<boolean>;
}

function optionalInt(text: string): number | null {
  return text.trim() === '' ? null : Number(text);
}

export function RegisterAgentForm({ busy, errors, onSubmit }: RegisterAgentFormProps) {
  const [name, setName] = useState('');
  const [skills, setSkills] = useState('');
  const [model, setModel] = useState('');
  const [mode, setMode] = useState<AgentMode>('MANAGED');
  const [askPerUnit, setAskPerUnit] = useState('');
  const [maxConcurrency, setMaxConcurrency] = useState('');
  const [systemPrompt, setSystemPrompt] = useState('');

  const submit = async (event: FormEvent) => {
    event.preventDefault();
    if (busy) return;
    const created = await onSubmit({
      name: name.trim(),
      skills: parseSkills(skills),
      model: model.trim() || null,
      mode,
      askPerUnit: optionalInt(askPerUnit),
      maxConcurrency: optionalInt(maxConcurrency),
      systemPrompt: mode === 'MANAGED' && systemPrompt.trim() ? systemPrompt : null,
    });
    if (created) {
      setName('');
      setSystemPrompt('');
    }
  };

  return (
    <form className="form" onSubmit={(e) => void submit(e)} data-testid="register-agent-form" aria-label="Register an agent" noValidate>
      <div className="form-row">
        <Field label="Name" name="name" error={errors['name']}>
          {(p) => <input {...p} name="name" required value={name} onChange={(e) => setName(e.target.value)} />}
        </Field>
        <Field label="Mode" name="mode" error={errors['mode']}>
          {(p) => (
            <select {...p} name="mode" value={mode} onChange={(e) => setMode(e.target.value === 'EXTERNAL' ? 'EXTERNAL' : 'MANAGED')}>
              <option value="MANAGED">Managed (run by the marketplace)</option>
              <option value="EXTERNAL">External (you submit results)</option>
            </select>
          )}
        </Field>
      </div>
      <div className="form-row">
        <Field label="Skills" name="skills" error={errors['skills']} hint="Comma-separated">
          {(p) => <input {...p} name="skills" value={skills} onChange={(e) => setSkills(e.target.value)} />}
        </Field>
        <Field label="Model" name="model" error={errors['model']} hint="Empty: the server's default model">
          {(p) => <input {...p} name="model" value={model} onChange={(e) => setModel(e.target.value)} />}
        </Field>
      </div>
      <div className="form-row">
        <Field label="Ask per unit (sats)" name="askPerUnit" error={errors['askPerUnit']} hint="Empty: 100,000">
          {(p) => <input {...p} name="askPerUnit" type="number" min={0} step={1} inputMode="numeric" value={askPerUnit} onChange={(e) => setAskPerUnit(e.target.value)} />}
        </Field>
        <Field label="Max concurrent tasks" name="maxConcurrency" error={errors['maxConcurrency']}>
          {(p) => <input {...p} name="maxConcurrency" type="number" min={1} step={1} inputMode="numeric" value={maxConcurrency} onChange={(e) => setMaxConcurrency(e.target.value)} />}
        </Field>
      </div>
      {mode === 'MANAGED' && (
        <Field label="System prompt" name="systemPrompt" error={errors['systemPrompt']} hint="Instructions the agent gives the model before each task.">
          {(p) => <textarea {...p} name="systemPrompt" rows={3} value={systemPrompt} onChange={(e) => setSystemPrompt(e.target.value)} />}
        </Field>
      )}
      <FormError message={errors['form']} />
      <button type="submit" className="primary" disabled={busy} data-testid="register-agent-submit">
        {busy ? 'Registering…' : 'Register agent'}
      </button>
    </form>
  );
}
