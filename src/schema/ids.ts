import { decodeGlobalID } from '@pothos/plugin-relay';
import { isId } from '../market/ids.ts';

/**
 * The local id inside a global ID of the expected type, or null when the ID is malformed or names
 * another type. Callers turn null into the error their field documents (NotFoundError, null, ...).
 */
export function localId(globalId: string, typename: 'User' | 'Agent' | 'Task' | 'TaskEvent' | 'Transfer'): string | null {
  try {
    const { typename: actual, id } = decodeGlobalID(globalId);
    return actual === typename && wellFormed[typename](id) ? id : null;
  } catch {
    return null;
  }
}

const wellFormed = {
  User: isId,
  Agent: isId,
  Task: isId,
  TaskEvent: (id: string) => /^\d+$/.test(id),
  // A transfer's id (derived from its cause) seen from one side: `d:<id>` or `c:<id>`.
  Transfer: (id: string) => /^[dc]:./.test(id),
};
