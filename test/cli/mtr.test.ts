import assert from 'node:assert/strict';
import { test } from 'node:test';
import { runCli } from '../helpers.js';

const needsRoot = process.getuid?.() === 0 ? false : 'needs root (raw sockets)';

test('mtr --report prints mtr --report columns and Javg, after the rounds asked for', {
  skip: needsRoot,
  timeout: 8000,
}, async () => {
  const result = await runCli(['mtr', '127.0.0.1', '--report', '-c', '3', '-i', '20ms']);
  assert.equal(result.code, 0, result.stderr);
  const lines = result.stdout.toString().split('\n');
  assert.match(lines[0] ?? '', /^Start: \d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\+0000$/);
  assert.match(lines[1] ?? '', /^HOST: \S+ +Loss% {3}Snt {3}Last {3}Avg {2}Best {2}Wrst StDev {2}Javg$/);
  assert.match(lines[2] ?? '', /^ {2}1\.\|-- 127\.0\.0\.1 {18}0\.0% {5}3( +\d+\.\d){6}$/);
  assert.equal(lines.length, 4);
});

test('mtr usage errors exit 2 with one line', { timeout: 8000 }, async () => {
  const cases = [
    [['mtr', '127.0.0.1', '-p', '80'], /^sockkit: mtr: --port needs --tcp or --udp/],
    [
      ['mtr', '127.0.0.1', '--interval', '1ms'],
      /^sockkit: --interval: must be from 10ms to 1h \(got 1ms\)\n$/,
    ],
    [['mtr', '127.0.0.1', '-c', '0'], /^sockkit: --count: must be from 1 to 1000000 \(got 0\)\n$/],
  ] as const;
  const results = await Promise.all(cases.map(([args]) => runCli(args)));
  for (const [i, result] of results.entries()) {
    assert.equal(result.code, 2, result.stderr);
    assert.match(result.stderr, cases[i]?.[1] as RegExp);
  }
});
