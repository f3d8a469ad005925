import { parseArgs } from 'node:util';
import { parseLatency } from './behaviour.ts';
import { startFakeLlm, type FakeLlmOptions } from './server.ts';

/** `npm run fake-llm -- --port 8787 --latency 200 --error-rate 0.1 --rate-limit-429 0.05 --rps 20 --api-key sk-test` */

const usage = `Usage: npm run fake-llm -- [switches]

An OpenAI-compatible fake provider (POST /v1/chat/completions, GET /v1/models).

  --port <n>              port to listen on (default 8787; 0 picks a free one)
  --host <addr>           address to listen on (default 127.0.0.1)
  --latency <ms|min..max> delay before each answer, fixed or uniform in a range (default 0)
  --error-rate <0..1>     share of requests answered 500 (default 0)
  --rate-limit-429 <0..1> share of requests answered 429 with Retry-After (default 0)
  --retry-after-ms <ms>   the wait those random 429s ask for (default 1000)
  --rps <n>               token-bucket limit in requests per second; beyond it 429 with the wait until
                          the next token, and x-ratelimit-* headers on every answer (default unlimited)
  --burst <n>             token-bucket capacity (default: one second of --rps)
  --api-key <key>         answer 401 to any other Bearer key (default: accept any)
  --help                  show this help`;

function fail(message: string): never {
  console.error(`${message}\n\n${usage}`);
  process.exit(2);
}

function numberIn(name: string, text: string | undefined, min: number, max: number): number | undefined {
  if (text === undefined) return undefined;
  const value = Number(text);
  if (!Number.isFinite(value) || value < min || value > max) fail(`--${name} must be a number in ${min}..${max}`);
  return value;
}

function readOptions(): FakeLlmOptions {
  let values;
  try {
    ({ values } = parseArgs({
      options: {
        port: { type: 'string', default: '8787' },
        host: { type: 'string', default: '127.0.0.1' },
        latency: { type: 'string' },
        'error-rate': { type: 'string' },
        'rate-limit-429': { type: 'string' },
        'retry-after-ms': { type: 'string' },
        rps: { type: 'string' },
        burst: { type: 'string' },
        'api-key': { type: 'string' },
        help: { type: 'boolean', short: 'h', default: false },
      },
    }));
  } catch (error) {
    fail(error instanceof Error ? error.message : String(error));
  }
  if (values.help) {
    console.log(usage);
    process.exit(0);
  }
  let latencyMs;
  try {
    latencyMs = values.latency === undefined ? undefined : parseLatency(values.latency);
  } catch (error) {
    fail(error instanceof Error ? error.message : String(error));
  }
  const options: FakeLlmOptions = {
    port: numberIn('port', values.port, 0, 65535),
    host: values.host,
    latencyMs,
    errorRate: numberIn('error-rate', values['error-rate'], 0, 1),
    rateLimit429Rate: numberIn('rate-limit-429', values['rate-limit-429'], 0, 1),
    retryAfterMs: numberIn('retry-after-ms', values['retry-after-ms'], 0, 3_600_000),
    requestsPerSecond: numberIn('rps', values.rps, 0.001, 1_000_000) ?? null,
    burst: numberIn('burst', values.burst, 1, 1_000_000) ?? null,
    requiredApiKey: values['api-key'] ?? null,
  };
  // Leave unset switches to the server's defaults.
  return Object.fromEntries(Object.entries(options).filter(([, v]) => v !== undefined)) as FakeLlmOptions;
}

const options = readOptions();
const fake = await startFakeLlm(options);
console.log(`fake LLM listening at ${fake.baseUrl}`);
console.log(`  behaviour: ${JSON.stringify(fake.behaviour)}`);
console.log(`Point the app at it:\n  OPENAI_BASE_URL=${fake.baseUrl} OPENAI_API_KEY=${options.requiredApiKey ?? 'sk-fake'} npm start`);

const report = setInterval(() => {
  const s = fake.stats;
  if (s.total > 0) console.log(`requests ${s.total}, in flight ${s.inFlight} (max ${s.maxInFlight}), by status ${JSON.stringify(s.byStatus)}`);
}, 10_000);
report.unref();

for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => {
    clearInterval(report);
    void fake.close().then(() => process.exit(0));
  });
}
