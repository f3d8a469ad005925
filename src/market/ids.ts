import { randomFillSync } from 'node:crypto';

let lastMs = 0;
let counter = 0;

/**
 * Randomness drawn 4 KB at a time: one system call per 200-odd ids instead of two per id (a task takes
 * three ids on its way, and a system call is not cheap on a virtual machine).
 */
const pool = Buffer.alloc(4096);
let used = pool.length;

function randomBytes(size: number): Buffer {
  if (used + size > pool.length) {
    randomFillSync(pool);
    used = 0;
  }
  const bytes = Buffer.from(pool.subarray(used, used + size));
  used += size;
  return bytes;
}

/**
 * A UUIDv7: 48 bits of milliseconds, then a counter and randomness. Ids made by one process sort in
 * creation order even within one millisecond, so "newest first" pages by id with no extra column.
 */
export function newId(now = Date.now()): string {
  if (now <= lastMs) {
    counter++;
    if (counter > 0xfff) {
      // More than 4096 ids in one millisecond: borrow the next millisecond rather than break the order.
      lastMs++;
      counter = 0;
    }
    now = lastMs;
  } else {
    lastMs = now;
    counter = randomBytes(2).readUInt16BE() & 0x3ff;
  }
  const bytes = randomBytes(16);
  bytes.writeUIntBE(now, 0, 6);
  // 12-bit counter after the version nibble keeps ids monotonic inside one millisecond.
  bytes[6] = 0x70 | ((counter >> 8) & 0x0f);
  bytes[7] = counter & 0xff;
  bytes[8] = 0x80 | ((bytes[8] ?? 0) & 0x3f);
  const hex = bytes.toString('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

export function isId(value: string): boolean {
  return UUID.test(value);
}
