import assert from 'node:assert/strict';
import { test } from 'node:test';
import { UsageError } from '../../src/errors.js';
import { parsePorts } from '../../src/scan/ports.js';

test('a list of ports and ranges gives every port once, in ascending order', () => {
  assert.deepEqual(parsePorts('443,80,8000-8003, 81 - 82,80'), [80, 81, 82, 443, 8000, 8001, 8002, 8003]);
  assert.deepEqual(parsePorts('65535'), [65535]);
  assert.equal(parsePorts('1-65535').length, 65535);
});

test('overlapping ranges repeated many times cost one pass and give each port once', () => {
  const ports = parsePorts(Array.from({ length: 2000 }, () => '1-65535').join(','));
  assert.equal(ports.length, 65535);
  assert.equal(ports[65534], 65535);
});

test('a range over 65535, port 0, a reversed range or a malformed item is a usage error naming it', () => {
  for (const [text, message] of [
    ['1-65536', /^scan: port 65536 in "1-65536" is out of range \(1-65535\)$/],
    ['0', /^scan: port 0 in "0" is out of range/],
    ['90-80', /^scan: range "90-80" is reversed \(write 80-90\)$/],
    ['', /^scan: invalid port list ""/],
    ['80,,81', /^scan: invalid port list "80,,81"/],
    ['http', /^scan: invalid port list "http"/],
    ['1-2-3', /^scan: invalid port list/],
    ['9999999999', /^scan: invalid port list/],
  ] as const) {
    assert.throws(
      () => parsePorts(text, 'scan'),
      (err: unknown) => err instanceof UsageError && err.code === 'ERR_USAGE' && message.test(err.message),
      text,
    );
  }
});
