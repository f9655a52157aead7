/**
 * checkEverySplit: a pure handshake codec (bytes → message | need more | error) must find the same
 * message however the bytes arrive: every prefix short of the message is "need more", the whole
 * message decodes, and bytes after it are left alone.
 */
import assert from 'node:assert/strict';
import type { HeadDecoded } from '../../src/proxy/http-head.js';

/** checkEverySplit asserts, for each prefix of `bytes`, that `decode` needs more, then that the whole decodes to `expected`. */
export function checkEverySplit<T>(
  decode: (buffer: Buffer) => HeadDecoded<T> | undefined,
  bytes: Buffer,
  expected: T,
): void {
  for (let cut = 0; cut < bytes.length; cut += 1) {
    assert.equal(
      decode(bytes.subarray(0, cut)),
      undefined,
      `a prefix of ${cut} of ${bytes.length} bytes needs more`,
    );
  }
  assert.deepEqual(decode(bytes), { value: expected, used: bytes.length });
  const followed = Buffer.concat([bytes, Buffer.from('after')]);
  assert.deepEqual(
    decode(followed),
    { value: expected, used: bytes.length },
    'bytes after it are left alone',
  );
}
