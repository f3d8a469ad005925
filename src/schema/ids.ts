import { decodeGlobalID } from '@pothos/plugin-relay';
import { isId } from '../market/ids.ts';

/**
 * The local id inside a global ID of the expected type, or null when the ID is malformed or names
 * another type. Callers turn null into the error their field documents (NotFoundError, null, ...).
 */
export function localId(globalId: string, typename: 'User' | 'Agent' | 'Task' | 'TaskEvent'): string | null {
  try {
    const { typename: actual, id } = decodeGlobalID(globalId);
    return actual === typename && (typename === 'TaskEvent' ? /^\d+$/.test(id) : isId(id)) ? id : null;
  } catch {
    return null;
  }
}
