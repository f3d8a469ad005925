import type { Logger } from 'pino';
import type { Config } from '../config.ts';
import type { Executor } from './executor.ts';
import { OfflineExecutor } from './offline-executor.ts';
import { OpenAiExecutor, type OpenAiExecutorOptions } from './openai-executor.ts';

/**
 * The executor the configuration asks for: the OpenAI one when a key or a base URL is set (a base URL
 * alone is a local compatible server, which needs no key), otherwise the offline one.
 */
export function createExecutor(ai: Config['ai'], logger: Logger, options?: OpenAiExecutorOptions): Executor {
  if (ai.apiKey === undefined && ai.baseUrl === undefined) {
    logger.warn('no OPENAI_API_KEY or OPENAI_BASE_URL: tasks get placeholder answers from the offline executor');
    return new OfflineExecutor();
  }
  return new OpenAiExecutor(ai, logger, options);
}
