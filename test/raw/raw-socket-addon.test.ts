import assert from 'node:assert/strict';
import { test } from 'node:test';
import { SockkitError } from '../../src/errors.js';
import { loadRawSocket } from '../../src/raw/raw-socket-addon.js';

test('a missing addon is reported as ERR_RAW_UNAVAILABLE, saying how to build it', async () => {
  await assert.rejects(loadRawSocket('ping', '127.0.0.1', 'raw-socket-not-installed'), (err: unknown) => {
    assert.ok(err instanceof SockkitError);
    assert.equal(err.code, 'ERR_RAW_UNAVAILABLE');
    assert.match(
      err.message,
      /^ping 127\.0\.0\.1: raw sockets are unavailable: the optional raw-socket-not-installed addon/,
    );
    assert.match(
      err.message,
      /install a C\+\+ compiler, make and python3, then run `npm rebuild raw-socket-not-installed`/,
    );
    return true;
  });
});
