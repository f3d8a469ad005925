// Placeholder until the dashboard's static handler lands (owned by the dashboard work): serves nothing.
import type { IncomingMessage, ServerResponse } from 'node:http';
export function createStaticAssetHandler(_distDir: string): (req: IncomingMessage, res: ServerResponse) => boolean {
  return () => false;
}
