/**
 * How bench shows a mismatched reply: what was expected, in the words of the check that failed. A
 * udp reply of the wrong length under `--reply-size` alone has no expected bytes and no pattern;
 * it read "expected to match /undefined/".
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { formatMismatches } from '../../src/cli/options/bench-request.js';

test('a reply of the wrong size says it wanted --reply-size bytes, never /undefined/', () => {
  const text = formatMismatches([{ connection: 1, sequence: 0, receivedHex: '6869', receivedBytes: 2 }], 1);
  assert.match(text, /connection 1, reply 0: expected a reply of --reply-size bytes, got 2 B/);
  assert.doesNotMatch(text, /undefined/);
});

test('an exact check and a match check each say what they wanted', () => {
  const exact = formatMismatches(
    [{ connection: 2, sequence: 3, expectedHex: '6f6b', receivedHex: '6e6f', receivedBytes: 2 }],
    1,
  );
  assert.match(exact, /expected 'ok', got 2 B 'no'/);
  const match = formatMismatches(
    [{ connection: 2, sequence: 3, pattern: '^\\+PONG', receivedHex: '2d45', receivedBytes: 2 }],
    1,
  );
  assert.match(match, /expected to match \/\^\\\+PONG\//);
});
