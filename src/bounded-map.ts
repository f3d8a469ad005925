/**
 * A Map that holds at most `capacity` entries: adding one more forgets the oldest (Map iterates in
 * insertion order). For the process's caches of things that never go stale by themselves: prepared
 * statements, verified tokens, finished tasks.
 */
export class BoundedMap<K, V> extends Map<K, V> {
  constructor(private readonly capacity: number) {
    super();
  }

  override set(key: K, value: V): this {
    if (!this.has(key) && this.size >= this.capacity) {
      const oldest = this.keys().next();
      if (!oldest.done) this.delete(oldest.value);
    }
    return super.set(key, value);
  }
}
