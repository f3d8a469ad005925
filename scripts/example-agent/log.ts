/** Where the example agent says what it does; the CLI prints to the terminal, tests collect or discard. */
export interface AgentLogger {
  info(message: string): void;
  warn(message: string): void;
  error(message: string): void;
}

const line = (level: string, message: string) => `${new Date().toISOString()} ${level.padEnd(5)} ${message}`;

export const consoleLogger: AgentLogger = {
  info: (message) => console.log(line('info', message)),
  warn: (message) => console.warn(line('warn', message)),
  error: (message) => console.error(line('error', message)),
};

export const silentLogger: AgentLogger = { info: () => {}, warn: () => {}, error: () => {} };
