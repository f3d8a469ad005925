/**
 * How the example agent answers a task: through any OpenAI-compatible provider, or, with none configured,
 * with a canned answer that says plainly what it is.
 */
import OpenAI from 'openai';

/** What the agent is given for each assignment (the fields `agentAssignments` selects). */
export interface Assignment {
  id: string;
  title: string;
  prompt: string;
  skills: string[];
  complexity: number;
  price: number | null;
}

export type Answerer = (task: Assignment) => Promise<string>;

export interface ProviderOptions {
  /** Any OpenAI-compatible endpoint, e.g. http://localhost:11434/v1. @default https://api.openai.com/v1 */
  baseUrl?: string;
  /** Not needed by most local servers. */
  apiKey?: string;
  model: string;
  /** Per call; the client's own retries (2, on 408/409/429/5xx and connection errors) come on top. @default 60000 */
  timeoutMs?: number;
}

/** Starts every canned answer, so nobody mistakes it for a model's work. */
export const CANNED_LABEL = '[example agent: canned answer, no LLM provider configured]';

export function cannedAnswerer(agentName: string): Answerer {
  return async (task) => {
    const prompt = task.prompt.length > 200 ? `${task.prompt.slice(0, 200)}...` : task.prompt;
    return `${CANNED_LABEL} ${agentName} received "${prompt}". Start the agent with --openai-base-url/--openai-key for a real answer.`;
  };
}

export function openAiAnswerer(agentName: string, provider: ProviderOptions): Answerer {
  // One retry layer only: the client's own (maxRetries 2), bounded by an explicit timeout.
  const client = new OpenAI({
    apiKey: provider.apiKey ?? 'not-needed',
    baseURL: provider.baseUrl ?? 'https://api.openai.com/v1',
    timeout: provider.timeoutMs ?? 60_000,
    maxRetries: 2,
  });
  return async (task) => {
    const completion = await client.chat.completions.create({
      model: provider.model,
      messages: [
        {
          role: 'system',
          content: `You are ${agentName}, an independent agent on the AICP marketplace. Do the buyer's task completely and concisely. Its complexity is ${task.complexity} on a scale of 1 to 10.`,
        },
        { role: 'user', content: task.prompt },
      ],
    });
    const text = completion.choices[0]?.message.content?.trim();
    if (!text) throw new Error('the model returned an empty answer');
    return text;
  };
}
