import { useState, type FormEvent } from 'react';
import { useMutation } from 'urql';
import { dismissNotice, setSession } from '../auth.ts';
import { Field, FormError } from '../components/ui.tsx';
import { issuesToFieldErrors, requestErrorMessage, type FieldErrors } from '../errors.ts';
import { graphql, type Role } from '../graphql.ts';
import { navigate } from '../router.ts';

const AuthPayloadFragment = graphql(`
  fragment SessionPayload on AuthPayload {
    token
    expiresAt
    user { id email role }
  }
`);

const SignUpMutation = graphql(
  `
    mutation SignUp($input: SignUpInput!) {
      signUp(input: $input) {
        __typename
        ...SessionPayload
        ... on ValidationError { message issues { path message } }
        ... on ConflictError { message }
      }
    }
  `,
  [AuthPayloadFragment],
);

const LogInMutation = graphql(
  `
    mutation LogIn($input: LogInInput!) {
      logIn(input: $input) {
        __typename
        ...SessionPayload
        ... on InvalidCredentialsError { message }
      }
    }
  `,
  [AuthPayloadFragment],
);

type Mode = 'signin' | 'signup';

export function SignInPage({ notice }: { notice: string | null }) {
  const [mode, setMode] = useState<Mode>('signin');
  const [email, setEmail] = useState('');
  const [password, setPassword] = useState('');
  const [role, setRole] = useState<Extract<Role, 'BUYER' | 'AGENT'>>('BUYER');
  const [errors, setErrors] = useState<FieldErrors>({});
  const [signUpState, signUp] = useMutation(SignUpMutation);
  const [logInState, logIn] = useMutation(LogInMutation);
  const busy = signUpState.fetching || logInState.fetching;

  const submit = async (event: FormEvent) => {
    event.preventDefault();
    if (busy) return;
    setErrors({});
    const result = mode === 'signup' ? await signUp({ input: { email, password, role } }) : await logIn({ input: { email, password } });
    if (result.error) return setErrors({ form: requestErrorMessage(result.error) });
    const data = result.data;
    const payload = data && ('signUp' in data ? data.signUp : 'logIn' in data ? data.logIn : undefined);
    if (!payload) return setErrors({ form: 'The server sent no answer. Please try again.' });
    switch (payload.__typename) {
      case 'AuthPayload':
        // The address as typed: the server may mask emails in what it returns.
        setSession({ token: payload.token, expiresAt: payload.expiresAt, userId: payload.user.id, email: email.trim(), role: payload.user.role });
        navigate('workspace');
        return;
      case 'ValidationError':
        return setErrors(issuesToFieldErrors(payload.issues, ['email', 'password', 'role']));
      case 'ConflictError':
        return setErrors({ email: payload.message });
      case 'InvalidCredentialsError':
        return setErrors({ form: payload.message });
    }
  };

  const switchMode = (next: Mode) => {
    setMode(next);
    setErrors({});
  };

  return (
    <div className="page auth-page">
      <section className="card auth-card" aria-labelledby="auth-title">
        {notice && (
          <div className="notice" role="alert" data-testid="auth-notice">
            <span>{notice}</span>
            <button type="button" className="link" onClick={dismissNotice}>
              Dismiss
            </button>
          </div>
        )}
        <div className="tabs" role="tablist" aria-label="Account">
          <button type="button" role="tab" aria-selected={mode === 'signin'} onClick={() => switchMode('signin')} data-testid="tab-signin">
            Sign in
          </button>
          <button type="button" role="tab" aria-selected={mode === 'signup'} onClick={() => switchMode('signup')} data-testid="tab-signup">
            Create account
          </button>
        </div>
        <h1 id="auth-title">{mode === 'signin' ? 'Welcome back' : 'Join the marketplace'}</h1>
        <form className="form" onSubmit={(e) => void submit(e)} data-testid="auth-form" noValidate>
          <Field label="Email" name="email" error={errors['email']}>
            {(p) => <input {...p} type="email" autoComplete="email" required value={email} onChange={(e) => setEmail(e.target.value)} />}
          </Field>
          <Field label="Password" name="password" error={errors['password']} hint={mode === 'signup' ? 'At least 8 characters.' : undefined}>
            {(p) => (
              <input
                {...p}
                type="password"
                autoComplete={mode === 'signup' ? 'new-password' : 'current-password'}
                required
                minLength={mode === 'signup' ? 8 : undefined}
                value={password}
                onChange={(e) => setPassword(e.target.value)}
              />
            )}
          </Field>
          {mode === 'signup' && (
            <fieldset className="radio-cards">
              <legend>I want to</legend>
              <label>
                <input type="radio" name="role" value="BUYER" checked={role === 'BUYER'} onChange={() => setRole('BUYER')} />
                <span><strong>Buy work</strong> — post tasks, pay in sats</span>
              </label>
              <label>
                <input type="radio" name="role" value="AGENT" checked={role === 'AGENT'} onChange={() => setRole('AGENT')} />
                <span><strong>Operate agents</strong> — earn sats doing tasks</span>
              </label>
              {errors['role'] && <div className="field-error" role="alert">{errors['role']}</div>}
            </fieldset>
          )}
          <FormError message={errors['form']} />
          <button type="submit" className="primary" disabled={busy} data-testid="auth-submit">
            {busy ? 'Please wait…' : mode === 'signin' ? 'Sign in' : 'Create account'}
          </button>
        </form>
      </section>
    </div>
  );
}
