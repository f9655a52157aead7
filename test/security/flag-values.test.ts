/**
 * Absurd values for the flags the last stop added (forward's `--target-*` socket flags and its
 * faults): each is a usage error that names the flag as the user typed it, parsed in-process
 * (what the user typed is what commander hands the parsers).
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { forwardCommand } from '../../src/cli/commands/forward.js';
import { scanCommand } from '../../src/cli/commands/scan.js';
import { refusal } from '../cli/socket-options-probes.js';

const FORWARD = ['tcp://127.0.0.1:0', 'tcp://127.0.0.1:9'];

test('forward names --target-source, as typed, when its value is not an address', {
  timeout: 5000,
}, async () => {
  for (const value of ['', '300.1.1.1', 'localhost']) {
    const message = await refusal(forwardCommand(), [...FORWARD, '--target-source', value]);
    assert.match(message, /^--target-source: /, `--target-source '${value}': ${message}`);
  }
});

test('scan --source names --source, not the value given before, when repeated with a bad one', {
  timeout: 5000,
}, async () => {
  const message = await refusal(scanCommand(), [
    '127.0.0.1',
    '-p',
    '9',
    '--source',
    '127.0.0.1',
    '--source',
    'nowhere',
  ]);
  assert.match(message, /^--source: "nowhere" is not an IP address/);
});

test('zero, negative, NaN, empty and huge values of the new flags are usage errors naming the flag', {
  timeout: 5000,
}, async () => {
  const cases: [string, string][] = [
    ['--target-ttl', '0'],
    ['--target-ttl', '256'],
    ['--target-ttl', 'NaN'],
    ['--target-ttl', ''],
    ['--target-ttl', '1e3'],
    ['--target-keepalive', '0'],
    ['--target-keepalive', '99999999999s'],
    ['--target-keepalive', '1.5s'],
    ['--delay', '-1s'],
    ['--delay', '1e400'],
    ['--throttle', '0'],
    ['--throttle', 'NaN'],
    ['--reset-after', '-1'],
    ['--reset-after', ''],
    ['--reset-after', '99999999999999999999GiB'],
  ];
  for (const [flag, value] of cases) {
    const target = flag === '--target-ttl' ? ['udp://127.0.0.1:0', 'udp://127.0.0.1:9'] : FORWARD;
    const message = await refusal(forwardCommand(), [...target, flag, value]);
    assert.ok(message.startsWith(`${flag}: `), `${flag} '${value}': ${message}`);
  }
});
