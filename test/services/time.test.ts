import assert from 'node:assert/strict';
import { test } from 'node:test';
import { request } from '../../src/datagram/request.js';
import { services } from '../../src/services/index.js';
import { decodeTime, encodeTime, SECONDS_1900_TO_1970 } from '../../src/services/time.js';
import { readAll, serveBoth } from './serve-both.js';

const hex = (date: string): string => encodeTime(new Date(date)).toString('hex');

test('encodeTime counts seconds since 1900-01-01 00:00 UTC, big-endian, as RFC 868 says', () => {
  // RFC 868's own examples: 2,208,988,800 is 00:00 1 Jan 1970 GMT, 2,398,291,200 is 00:00 1 Jan
  // 1976, 2,524,521,600 is 00:00 1 Jan 1980, 2,629,584,000 is 00:00 1 May 1983.
  assert.equal(hex('1900-01-01T00:00:00Z'), '00000000');
  assert.equal(hex('1970-01-01T00:00:00Z'), (2_208_988_800).toString(16));
  assert.equal(hex('1983-05-01T00:00:00Z'), (2_629_584_000).toString(16));
  assert.equal(hex('1976-01-01T00:00:00Z'), (2_398_291_200).toString(16));
  assert.equal(hex('1980-01-01T00:00:00Z'), (2_524_521_600).toString(16));
  assert.equal(SECONDS_1900_TO_1970, 2_208_988_800);
});

test('the 32-bit counter wraps to 0 on 2036-02-07 06:28:16 UTC instead of overflowing', () => {
  assert.equal(hex('2036-02-07T06:28:15Z'), 'ffffffff');
  assert.equal(hex('2036-02-07T06:28:16Z'), '00000000');
  assert.equal(hex('2036-02-07T06:28:17Z'), '00000001');
});

test('decodeTime picks the era nearest the clock, so post-2036 replies decode to 2036', () => {
  const after = new Date('2036-02-07T06:28:20Z');
  assert.equal(decodeTime(Buffer.from('00000004', 'hex'), after).toISOString(), '2036-02-07T06:28:20.000Z');
  const before = new Date('2026-11-24T00:00:00Z');
  assert.equal(decodeTime(encodeTime(before), before).toISOString(), before.toISOString());
  assert.throws(() => decodeTime(Buffer.alloc(3)), RangeError);
});

test('over TCP the server sends exactly 4 bytes, the clock reading taken during the request, then closes', async () => {
  const running = await serveBoth(services.time);
  try {
    const before = Math.floor(Date.now() / 1000) * 1000; // the protocol counts whole seconds
    const reply = await readAll(running.tcp);
    assert.equal(reply.length, 4);
    assertWithin(decodeTime(reply), before, Date.now());
  } finally {
    await running.stop();
  }
});

test('over UDP any datagram, even an empty one, gets the same 4 bytes back', async () => {
  const running = await serveBoth(services.time);
  try {
    for (const ask of ['', 'what time is it?']) {
      const before = Math.floor(Date.now() / 1000) * 1000;
      const { data } = await request(running.udp, ask);
      assert.equal(data.length, 4);
      assertWithin(decodeTime(data), before, Date.now());
    }
  } finally {
    await running.stop();
  }
});

/** assertWithin checks the server's clock reading was taken between the request and the reply. */
function assertWithin(at: Date, before: number, after: number): void {
  assert.ok(
    at.getTime() >= before && at.getTime() <= after,
    `${at.toISOString()} not within [${before}, ${after}]`,
  );
}
