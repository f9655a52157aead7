/** EmfileBackoff keeps time for a server that ran out of file descriptors: pure, on a clock the test turns. */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { EmfileBackoff, FIRST_PAUSE, LONGEST_PAUSE } from '../../src/security/emfile-backoff.js';

function clocked(): { backoff: EmfileBackoff; advance: (ms: number) => void } {
  let now = 1_000_000;
  const advance = (ms: number): void => {
    now += ms;
  };
  return { backoff: new EmfileBackoff(() => now), advance };
}

describe('EmfileBackoff', () => {
  test('is not paused until accept fails; the first failure pauses for FIRST_PAUSE ms, then it lifts', () => {
    const { backoff, advance } = clocked();
    assert.equal(backoff.paused(), false);
    assert.equal(backoff.failed(), FIRST_PAUSE);
    assert.equal(backoff.paused(), true);
    advance(FIRST_PAUSE - 1);
    assert.equal(backoff.paused(), true);
    advance(1);
    assert.equal(backoff.paused(), false);
  });

  test('a failure during a pause starts no new one; failures that keep coming double it up to LONGEST_PAUSE', () => {
    const { backoff, advance } = clocked();
    assert.equal(backoff.failed(), FIRST_PAUSE);
    assert.equal(backoff.failed(), undefined, 'already paused');
    // Then accept fails again each time a pause ends: each pause is twice the one before.
    const pauses: number[] = [FIRST_PAUSE];
    for (let i = 0; i < 8; i++) {
      advance(pauses.at(-1) ?? 0);
      assert.equal(backoff.paused(), false);
      pauses.push(backoff.failed() ?? -1);
    }
    assert.deepEqual(pauses, [
      FIRST_PAUSE,
      200,
      400,
      800,
      1600,
      3200,
      LONGEST_PAUSE,
      LONGEST_PAUSE,
      LONGEST_PAUSE,
    ]);
  });

  test('after a quiet spell it starts again small', () => {
    const { backoff, advance } = clocked();
    backoff.failed();
    advance(100);
    assert.equal(backoff.failed(), 2 * FIRST_PAUSE);
    advance(60_000);
    assert.equal(backoff.failed(), FIRST_PAUSE);
  });
});
