import { formatCountdown } from '../format.ts';
import { useNow } from '../hooks.ts';

/**
 * "Pays the agent automatically in 4:32", ticking every second. role="timer" is not announced as it ticks
 * (its aria-live is off): reading out every second would drown everything else. The end of the window is
 * a change of state, so that one line is a status and is announced once.
 */
export function ReviewCountdown({ deadline }: { deadline: string }) {
  const now = useNow(1000);
  const left = Date.parse(deadline) - now;
  if (!(left > 0)) {
    return (
      <p className="countdown" role="status" data-testid="review-countdown" data-ended="true">
        The review time is over: the agent is being paid.
      </p>
    );
  }
  return (
    <p className="countdown" role="timer" data-testid="review-countdown" data-seconds-left={Math.ceil(left / 1000)}>
      Pays the agent automatically in <strong className="countdown-clock">{formatCountdown(left)}</strong>
    </p>
  );
}
