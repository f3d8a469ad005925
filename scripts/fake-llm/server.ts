import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { performance } from 'node:perf_hooks';
import {
  answerFor,
  completionBody,
  defaultBehaviour,
  errorBody,
  pickLatency,
  rateLimitHeaders,
  retryAfterHeaders,
  TokenBucket,
  type ChatMessage,
  type FakeLlmBehaviour,
  type ScriptedResponse,
} from './behaviour.ts';

/**
 * An OpenAI-compatible provider over real HTTP, for tests, benchmarks and trying the app by hand
 * (`npm run fake-llm`). It answers `POST /v1/chat/completions` and `GET /v1/models`. Per request it does
 * little more than parse the body, so it keeps up with 10k+ requests a second.
 *
 * Order of decisions for a chat request: a scripted one-shot answer if one is queued; else 401 for a wrong
 * key; else 429 when the token bucket is empty; else a random 429, a random 500 (after the latency), or the
 * completion (after the latency).
 */

export interface FakeLlmOptions extends Partial<FakeLlmBehaviour> {
  /** @default 0 (any free port) */
  port?: number;
  /** @default '127.0.0.1' */
  host?: string;
}

export interface FakeLlmStats {
  /** Every request, `GET /v1/models` included. */
  total: number;
  byStatus: Record<number, number>;
  inFlight: number;
  maxInFlight: number;
  /** 429s sent, scripted or not. */
  rateLimited: number;
  resets: number;
  hangs: number;
  garbage: number;
}

export interface RecordedRequest {
  /** 1, 2, 3... since the start or the last `reset()`. */
  seq: number;
  /** `performance.now()` of this process when the request's body had arrived. */
  receivedAt: number;
  model: string | undefined;
  messages: ChatMessage[];
  /** The Bearer key, if any. */
  apiKey: string | null;
  /** What the fake answered; null until decided. */
  outcome: number | 'reset' | 'hang' | 'garbage' | null;
}

export interface FakeLlm {
  /** e.g. http://127.0.0.1:PORT/v1, ready for OPENAI_BASE_URL. */
  readonly baseUrl: string;
  readonly port: number;
  /** A snapshot of the counters. */
  readonly stats: FakeLlmStats;
  /** The last `recordLimit` chat requests, oldest first. */
  readonly requests: readonly RecordedRequest[];
  /** Answer the next chat request this way (FIFO, one use each). */
  enqueue(...responses: ScriptedResponse[]): void;
  /** Change default behaviour at runtime (changing the rate limit refills the bucket). */
  configure(changes: Partial<FakeLlmBehaviour>): void;
  readonly behaviour: Readonly<FakeLlmBehaviour>;
  /**
   * Back to how it started: the behaviour it was started with (whatever `configure` changed since),
   * zeroed counters, no recorded requests or pending scripts, a full bucket. Tests call it after each test.
   */
  reset(): void;
  /** Stop listening and drop every connection, hanging ones included. */
  close(): Promise<void>;
}

function emptyStats(): FakeLlmStats {
  return { total: 0, byStatus: {}, inFlight: 0, maxInFlight: 0, rateLimited: 0, resets: 0, hangs: 0, garbage: 0 };
}

interface ChatBody {
  model?: unknown;
  messages?: unknown;
}

function parseChat(raw: Buffer): { model: string | undefined; messages: ChatMessage[] } | null {
  let body: ChatBody;
  try {
    body = JSON.parse(raw.toString('utf8')) as ChatBody;
  } catch {
    return null;
  }
  if (typeof body !== 'object' || body === null || !Array.isArray(body.messages)) return null;
  const messages = (body.messages as unknown[]).map((m) => {
    const { role, content } = (m ?? {}) as { role?: unknown; content?: unknown };
    return { role: String(role), content: typeof content === 'string' ? content : JSON.stringify(content) };
  });
  return { model: typeof body.model === 'string' ? body.model : undefined, messages };
}

function bearer(req: IncomingMessage): string | null {
  const header = req.headers.authorization;
  return header?.startsWith('Bearer ') ? header.slice('Bearer '.length) : null;
}

/** Start a fake provider on 127.0.0.1 and a free port (by default); `options` set its default behaviour. */
export async function startFakeLlm(options: FakeLlmOptions = {}): Promise<FakeLlm> {
  const { port = 0, host = '127.0.0.1', ...initial } = options;
  const started: FakeLlmBehaviour = { ...defaultBehaviour, ...initial };
  let behaviour = started;
  const stats = emptyStats();
  let recorded: RecordedRequest[] = [];
  let seq = 0;
  let script: ScriptedResponse[] = [];
  let bucket = makeBucket();
  const timers = new Set<NodeJS.Timeout>();

  function makeBucket(): TokenBucket | null {
    const rps = behaviour.requestsPerSecond;
    if (rps === null || rps <= 0) return null;
    return new TokenBucket(rps, behaviour.burst ?? Math.max(1, rps), performance.now());
  }

  function later(ms: number, res: ServerResponse, fn: () => void): void {
    if (ms <= 0) return fn();
    const timer = setTimeout(() => {
      timers.delete(timer);
      if (!res.destroyed) fn();
    }, ms);
    timers.add(timer);
  }

  function send(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
    const text = typeof body === 'string' ? body : JSON.stringify(body);
    stats.byStatus[status] = (stats.byStatus[status] ?? 0) + 1;
    if (status === 429) stats.rateLimited += 1;
    res.writeHead(status, {
      'content-type': 'application/json',
      'content-length': Buffer.byteLength(text),
      ...headers,
    });
    res.end(text);
  }

  function play(step: ScriptedResponse, record: RecordedRequest, res: ServerResponse): void {
    const model = record.model ?? 'fake-model';
    switch (step.kind) {
      case 'hang':
        stats.hangs += 1;
        record.outcome = 'hang';
        return;
      case 'reset':
        stats.resets += 1;
        record.outcome = 'reset';
        return later(step.delayMs ?? 0, res, () => res.socket?.destroy());
      case 'garbage': {
        stats.garbage += 1;
        record.outcome = 'garbage';
        const body = step.shape === 'wrong-shape' ? { id: 'x', object: 'chat.completion', model } : '{"id": "chatcmpl-';
        return later(step.delayMs ?? 0, res, () => send(res, 200, body));
      }
      default: {
        record.outcome = step.status;
        const body = step.body ?? (step.status < 300 ? completionBody(answerFor(record.messages), model) : errorBody(step.status));
        return later(step.delayMs ?? 0, res, () => send(res, step.status, body, step.headers));
      }
    }
  }

  function chat(req: IncomingMessage, res: ServerResponse, raw: Buffer): void {
    const parsed = parseChat(raw);
    if (!parsed) return send(res, 400, errorBody(400, 'We could not parse the JSON body of your request.'));
    seq += 1;
    const record: RecordedRequest = { seq, receivedAt: performance.now(), ...parsed, apiKey: bearer(req), outcome: null };
    recorded.push(record);
    // Trim in batches so keeping the last N stays O(1) per request.
    if (recorded.length > 2 * behaviour.recordLimit) recorded = recorded.slice(-behaviour.recordLimit);

    const step = script.shift();
    if (step) return play(step, record, res);

    if (behaviour.requiredApiKey !== null && record.apiKey !== behaviour.requiredApiKey) {
      record.outcome = 401;
      return send(res, 401, errorBody(401));
    }
    const verdict = bucket?.take(performance.now());
    const limitHeaders = verdict ? rateLimitHeaders(verdict) : {};
    if (verdict && !verdict.ok) {
      record.outcome = 429;
      return send(res, 429, errorBody(429), { ...limitHeaders, ...retryAfterHeaders(verdict.retryAfterMs) });
    }
    if (behaviour.rateLimit429Rate > 0 && Math.random() < behaviour.rateLimit429Rate) {
      record.outcome = 429;
      return send(res, 429, errorBody(429), { ...limitHeaders, ...retryAfterHeaders(behaviour.retryAfterMs) });
    }
    const failed = behaviour.errorRate > 0 && Math.random() < behaviour.errorRate;
    record.outcome = failed ? 500 : 200;
    const model = record.model ?? 'fake-model';
    later(pickLatency(behaviour.latencyMs), res, () =>
      failed
        ? send(res, 500, errorBody(500), limitHeaders)
        : send(res, 200, completionBody(answerFor(record.messages), model), limitHeaders),
    );
  }

  function route(req: IncomingMessage, res: ServerResponse, raw: Buffer): void {
    const path = (req.url ?? '/').split('?')[0];
    if (req.method === 'POST' && path === '/v1/chat/completions') return chat(req, res, raw);
    if (req.method === 'GET' && path === '/v1/models') {
      return send(res, 200, {
        object: 'list',
        data: [{ id: 'fake-model', object: 'model', created: 0, owned_by: 'fake-llm' }],
      });
    }
    send(res, 404, errorBody(404, `Invalid URL (${req.method} ${path})`, null));
  }

  const server = createServer((req, res) => {
    stats.total += 1;
    stats.inFlight += 1;
    if (stats.inFlight > stats.maxInFlight) stats.maxInFlight = stats.inFlight;
    res.once('close', () => {
      stats.inFlight -= 1;
    });
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => route(req, res, chunks.length === 1 && chunks[0] ? chunks[0] : Buffer.concat(chunks)));
  });

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => resolve());
  });
  const address = server.address() as AddressInfo;

  return {
    baseUrl: `http://${host}:${address.port}/v1`,
    port: address.port,
    get stats() {
      return { ...stats, byStatus: { ...stats.byStatus } };
    },
    get requests() {
      return recorded.slice(-behaviour.recordLimit);
    },
    get behaviour() {
      return behaviour;
    },
    enqueue(...responses) {
      script.push(...responses);
    },
    configure(changes) {
      const limitChanged =
        ('requestsPerSecond' in changes && changes.requestsPerSecond !== behaviour.requestsPerSecond) ||
        ('burst' in changes && changes.burst !== behaviour.burst);
      behaviour = { ...behaviour, ...changes };
      if (limitChanged) bucket = makeBucket();
    },
    reset() {
      // Requests still in flight will still be counted out, so they stay counted in.
      Object.assign(stats, emptyStats(), { inFlight: stats.inFlight, maxInFlight: stats.inFlight });
      recorded = [];
      seq = 0;
      script = [];
      behaviour = started;
      bucket = makeBucket();
    },
    async close() {
      for (const timer of timers) clearTimeout(timer);
      timers.clear();
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      server.closeAllConnections();
      await closed;
    },
  };
}
