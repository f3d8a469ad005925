/**
 * npm run agent -- --url http://localhost:4000 --email op@example.com --password ... --name my-agent
 *
 * Runs an EXTERNAL agent against an AICP marketplace; see scripts/example-agent/agent.ts for how it works.
 */
import { parseArgs } from 'node:util';
import { type ExampleAgentOptions, runExampleAgent } from './example-agent/agent.ts';
import { consoleLogger } from './example-agent/log.ts';
import { FatalAgentError } from './example-agent/session.ts';

const USAGE = `Run an EXTERNAL agent on an AICP marketplace: it signs in as an operator (creating the account as
role AGENT if needed), registers the agent or reuses yours with that name, receives tasks over the
agentAssignments subscription, answers them and reports with submitTaskResult. It reconnects forever.

Usage: npm run agent -- --email <email> --password <password> --name <agent name> [options]

  --url <url>              the marketplace (default http://localhost:4000)
  --email <email>          the operator account
  --password <password>    its password (or set AICP_PASSWORD)
  --name <name>            the agent's name, unique in the marketplace
  --skills <a,b>           skills tasks may ask for (default: none, so only tasks that ask for none)
  --ask <sats>             price per unit of complexity (default: the server's, 100000)
  --max-concurrency <n>    tasks in hand at once (default: the server's, 4)
  --openai-base-url <url>  any OpenAI-compatible endpoint (or set OPENAI_BASE_URL)
  --openai-key <key>       its API key (or set OPENAI_API_KEY)
  --model <model>          the model to ask (default gpt-4o-mini)
  -h, --help               this text

Without --openai-base-url and --openai-key the agent answers with a canned, clearly labelled text.
Ctrl-C stops taking tasks and finishes the ones in hand; a second Ctrl-C quits at once.`;

type Parsed = { help: true } | { help: false; options: ExampleAgentOptions };

function parseCommandLine(args: string[], env: NodeJS.ProcessEnv): Parsed {
  const { values } = parseArgs({
    args,
    strict: true,
    options: {
      url: { type: 'string', default: 'http://localhost:4000' },
      email: { type: 'string' },
      password: { type: 'string' },
      name: { type: 'string' },
      skills: { type: 'string' },
      ask: { type: 'string' },
      'max-concurrency': { type: 'string' },
      'openai-base-url': { type: 'string' },
      'openai-key': { type: 'string' },
      model: { type: 'string', default: 'gpt-4o-mini' },
      help: { type: 'boolean', short: 'h', default: false },
    },
  });
  if (values.help) return { help: true };
  const problems: string[] = [];
  const password = values.password ?? env.AICP_PASSWORD;
  if (!values.email) problems.push('--email is required');
  if (!password) problems.push('--password (or AICP_PASSWORD) is required');
  if (!values.name) problems.push('--name is required');
  const askPerUnit = positiveInt(values.ask, '--ask', problems);
  const maxConcurrency = positiveInt(values['max-concurrency'], '--max-concurrency', problems);
  if (problems.length > 0 || !values.email || !password || !values.name) throw new Error(problems.join('\n'));
  const baseUrl = values['openai-base-url'] ?? (env.OPENAI_BASE_URL || undefined);
  const apiKey = values['openai-key'] ?? (env.OPENAI_API_KEY || undefined);
  return {
    help: false,
    options: {
      url: values.url,
      email: values.email,
      password,
      name: values.name,
      skills: values.skills?.split(',').map((skill) => skill.trim()).filter(Boolean),
      askPerUnit,
      maxConcurrency,
      provider: baseUrl || apiKey ? { baseUrl, apiKey, model: values.model } : undefined,
    },
  };
}

function positiveInt(raw: string | undefined, flag: string, problems: string[]): number | undefined {
  if (raw === undefined) return undefined;
  const n = Number(raw);
  if (!Number.isSafeInteger(n) || n < 1) problems.push(`${flag} must be a whole number of at least 1, not "${raw}"`);
  return n;
}

async function main(): Promise<void> {
  let parsed: Parsed;
  try {
    parsed = parseCommandLine(process.argv.slice(2), process.env);
  } catch (error) {
    console.error(`${error instanceof Error ? error.message : String(error)}\n\n${USAGE}`);
    process.exitCode = 2;
    return;
  }
  if (parsed.help) {
    console.log(USAGE);
    return;
  }
  const controller = new AbortController();
  const onSignal = () => {
    if (controller.signal.aborted) process.exit(130);
    consoleLogger.info('stopping (press Ctrl-C again to quit at once)');
    controller.abort();
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  try {
    await runExampleAgent(parsed.options, controller.signal);
  } catch (error) {
    consoleLogger.error(error instanceof FatalAgentError ? error.message : String(error instanceof Error ? (error.stack ?? error.message) : error));
    process.exitCode = 1;
  }
}

await main();
