import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { FrameTooLargeError, ProtocolError } from '../../src/errors.js';
import {
  COOKIE_SIZE,
  decodeCookie,
  decodeJson,
  decodeServerError,
  decodeState,
  encodeCookie,
  encodeJson,
  encodeServerError,
  encodeState,
  makeCookie,
  PerfState,
  stateName,
} from '../../src/perf/control-codec.js';

/** everyPrefixNeedsMore checks that no proper prefix of `bytes` decodes, and that all of it does. */
function everyPrefixNeedsMore<T>(
  decode: (b: Buffer) => { value: T; used: number } | undefined,
  bytes: Buffer,
): T {
  for (let i = 0; i < bytes.length; i++)
    assert.equal(decode(bytes.subarray(0, i)), undefined, `prefix of ${i} bytes`);
  const found = decode(bytes);
  assert.ok(found);
  assert.equal(found.used, bytes.length);
  return found.value;
}

const COOKIE = 'abcdefghijklmnopqrstuvwxyz2345672345';

describe('iperf3 control codec', () => {
  test('states carry iperf3 values, one signed byte each', () => {
    assert.deepEqual(encodeState(PerfState.PARAM_EXCHANGE), Buffer.from([0x09]));
    assert.deepEqual(encodeState(PerfState.CREATE_STREAMS), Buffer.from([0x0a]));
    assert.deepEqual(encodeState(PerfState.TEST_START), Buffer.from([0x01]));
    assert.deepEqual(encodeState(PerfState.TEST_RUNNING), Buffer.from([0x02]));
    assert.deepEqual(encodeState(PerfState.TEST_END), Buffer.from([0x04]));
    assert.deepEqual(encodeState(PerfState.EXCHANGE_RESULTS), Buffer.from([0x0d]));
    assert.deepEqual(encodeState(PerfState.DISPLAY_RESULTS), Buffer.from([0x0e]));
    assert.deepEqual(encodeState(PerfState.IPERF_DONE), Buffer.from([0x10]));
    assert.deepEqual(encodeState(PerfState.SERVER_TERMINATE), Buffer.from([0x0b]));
    assert.deepEqual(encodeState(PerfState.ACCESS_DENIED), Buffer.from([0xff]));
    assert.deepEqual(encodeState(PerfState.SERVER_ERROR), Buffer.from([0xfe]));
    assert.deepEqual(decodeState(Buffer.from([0xff, 0x09])), { value: -1, used: 1 });
    assert.equal(decodeState(Buffer.alloc(0)), undefined);
    assert.equal(stateName(4), 'test-end');
    assert.equal(stateName(77), 'unknown state 77');
    assert.throws(() => encodeState(200), RangeError);
  });

  test('a cookie is 36 characters of [a-z2-7] and a NUL, decoded only once all 37 bytes are there', () => {
    const bytes = Buffer.concat([Buffer.from(COOKIE, 'latin1'), Buffer.from([0])]);
    assert.deepEqual(encodeCookie(COOKIE), bytes);
    assert.equal(bytes.length, COOKIE_SIZE);
    assert.deepEqual(everyPrefixNeedsMore(decodeCookie, bytes), { cookie: COOKIE, probe: false });
    // Followed by a state byte: the cookie takes its 37 bytes only.
    assert.equal(decodeCookie(Buffer.concat([bytes, Buffer.from([9])]))?.used, 37);
  });

  test("the responsiveness probe's cookie ends in '!' instead of NUL", () => {
    const bytes = encodeCookie(COOKIE, true);
    assert.equal(bytes[36], 0x21);
    assert.deepEqual(decodeCookie(bytes)?.value, { cookie: COOKIE, probe: true });
  });

  test('refuses bytes that are not a cookie: an HTTP request, a wrong terminator, a short cookie', () => {
    const http = Buffer.from('GET / HTTP/1.1\r\nHost: example.test\r\n\r\n');
    assert.throws(
      () => decodeCookie(http),
      (err: unknown) => err instanceof ProtocolError && err.code === 'ERR_PROTOCOL',
    );
    const wrongEnd = Buffer.concat([Buffer.from(COOKIE, 'latin1'), Buffer.from([0x41])]);
    assert.throws(() => decodeCookie(wrongEnd), /did not open with an iperf3 cookie/);
    assert.throws(() => encodeCookie('short'), RangeError);
    // Refused at the first byte that cannot be part of a cookie, without waiting for 37.
    assert.throws(() => decodeCookie(Buffer.from('GET')), /did not open with an iperf3 cookie/);
    assert.throws(() => decodeCookie(Buffer.from([0x16, 0x03, 0x01])), /did not open/);
    assert.equal(decodeCookie(Buffer.from('abc')), undefined, 'a prefix of a cookie needs more');
  });

  test('makeCookie draws 36 characters from the alphabet', () => {
    const cookie = makeCookie(() => Buffer.from(Array.from({ length: 36 }, (_, i) => i * 7)));
    assert.equal(cookie.length, 36);
    assert.match(cookie, /^[a-z2-7]{36}$/);
    assert.equal(cookie.slice(0, 5), 'ahov4');
  });

  test('JSON messages are a 4-byte big-endian length and the text, split at every boundary', () => {
    const bytes = Buffer.from([0, 0, 0, 0x0c, ...Buffer.from('{"tcp":true}')]);
    assert.deepEqual(encodeJson({ tcp: true }), bytes);
    assert.deepEqual(everyPrefixNeedsMore(decodeJson, bytes), { tcp: true });
    // Two messages back to back decode one at a time.
    const two = Buffer.concat([bytes, encodeJson({ time: 1 })]);
    const first = decodeJson(two);
    assert.equal(first?.used, 16);
    assert.deepEqual(decodeJson(two.subarray(16))?.value, { time: 1 });
  });

  test('refuses a JSON length over the limit before the text arrives, and text that is not an object', () => {
    assert.throws(
      () => decodeJson(Buffer.from([0x7f, 0xff, 0xff, 0xff])),
      (err: unknown) => err instanceof FrameTooLargeError && err.size === 0x7fffffff,
    );
    assert.throws(() => decodeJson(Buffer.from([0, 0, 0, 3, 0x7b, 0x7b, 0x7b])), /not valid JSON/);
    assert.throws(() => decodeJson(Buffer.from([0, 0, 0, 2, 0x5b, 0x5d])), /not a JSON object/);
    assert.throws(() => decodeJson(Buffer.from([0, 0, 0, 4, ...Buffer.from('null')])), /not a JSON object/);
  });

  test('SERVER_ERROR is the state byte and two big-endian 32-bit numbers', () => {
    const bytes = Buffer.from([0xfe, 0, 0, 0, 13, 0, 0, 0, 0]);
    assert.deepEqual(encodeServerError({ iperfErrno: 13, errno: 0 }), bytes);
    assert.deepEqual(everyPrefixNeedsMore(decodeServerError, bytes.subarray(1)), {
      iperfErrno: 13,
      errno: 0,
    });
  });
});
