import { useId, type ReactNode } from 'react';
import type { HealthStatus, TaskStatus } from '../graphql.ts';

const statusTone: Record<TaskStatus, string> = {
  PENDING: 'neutral',
  ASSIGNED: 'info',
  PROCESSING: 'info',
  DELIVERED: 'info',
  DISPUTED: 'bad',
  COMPLETED: 'ok',
  FAILED: 'bad',
  CANCELLED: 'muted',
};

export function TaskStatusBadge({ status }: { status: TaskStatus }) {
  return (
    <span className={`badge badge-${statusTone[status]}`} data-testid="task-status">
      {status}
    </span>
  );
}

const healthTone: Record<HealthStatus, string> = { OK: 'ok', DEGRADED: 'warn', DOWN: 'bad' };
const healthIcon: Record<HealthStatus, string> = { OK: '●', DEGRADED: '▲', DOWN: '■' };

/** Colour plus a shape and the word itself, so the state reads without colour vision. */
export function HealthBadge({ status, testId }: { status: HealthStatus; testId?: string }) {
  return (
    <span className={`badge badge-${healthTone[status]}`} data-testid={testId} data-status={status}>
      <span aria-hidden="true">{healthIcon[status]} </span>
      {status}
    </span>
  );
}

export function Card({ title, children, actions, testId }: { title: string; children: ReactNode; actions?: ReactNode; testId?: string }) {
  const id = useId();
  return (
    <section className="card" aria-labelledby={id} data-testid={testId}>
      <header className="card-header">
        <h2 id={id}>{title}</h2>
        {actions}
      </header>
      {children}
    </section>
  );
}

interface FieldProps {
  label: string;
  error?: string | undefined;
  hint?: ReactNode;
  /** Renders the control; gets the id to put on it and the ids that describe it. */
  children: (props: { id: string; 'aria-describedby'?: string; 'aria-invalid'?: boolean }) => ReactNode;
  name: string;
}

/** A labelled control with its hint and its error right below it. */
export function Field({ label, error, hint, children, name }: FieldProps) {
  const id = useId();
  const hintId = `${id}-hint`;
  const errorId = `${id}-error`;
  const describedBy = [hint ? hintId : '', error ? errorId : ''].filter(Boolean).join(' ');
  return (
    <div className={`field${error ? ' field-invalid' : ''}`}>
      <label htmlFor={id}>{label}</label>
      {children({ id, ...(describedBy ? { 'aria-describedby': describedBy } : {}), ...(error ? { 'aria-invalid': true } : {}) })}
      {hint && (
        <div className="field-hint" id={hintId}>
          {hint}
        </div>
      )}
      {error && (
        <div className="field-error" id={errorId} role="alert" data-testid={`error-${name}`}>
          {error}
        </div>
      )}
    </div>
  );
}

export function FormError({ message }: { message: string | undefined }) {
  if (!message) return null;
  return (
    <div className="form-error" role="alert" data-testid="form-error">
      {message}
    </div>
  );
}

/** A list's search box: `label` names it for screen readers, where the placeholder is not enough. */
export function SearchBox({ label, placeholder, value, onChange, testId }: { label: string; placeholder: string; value: string; onChange: (value: string) => void; testId: string }) {
  return <input type="search" placeholder={placeholder} aria-label={label} value={value} onChange={(e) => onChange(e.target.value)} data-testid={testId} />;
}

interface EnumFilterProps<T extends string> {
  label: string;
  /** The empty choice's text, e.g. "All roles". */
  all: string;
  options: readonly T[];
  value: T | null;
  onChange: (value: T | null) => void;
  testId: string;
}

/** A list filter over an enum's values, plus "all" (null). */
export function EnumFilter<T extends string>({ label, all, options, value, onChange, testId }: EnumFilterProps<T>) {
  return (
    <select aria-label={label} value={value ?? ''} onChange={(e) => onChange(options.find((o) => o === e.target.value) ?? null)} data-testid={testId}>
      <option value="">{all}</option>
      {options.map((option) => (
        <option key={option} value={option}>
          {option.toLowerCase()}
        </option>
      ))}
    </select>
  );
}

export function Empty({ children }: { children: ReactNode }) {
  return <p className="empty">{children}</p>;
}
