import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { test } from 'node:test';
import { CLI, runCli, runProgram } from '../helpers.js';

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

test('on a terminal mtr redraws its table in place after every round', {
  skip: needsRoot || whyNoScript(),
  timeout: 8000,
}, async () => {
  // script(1) gives sockkit a pseudo-terminal for stdout, as a user's terminal would.
  const command = [process.execPath, CLI, 'mtr', '127.0.0.1', '-c', '3', '-i', '50ms']
    .map((word) => `'${word}'`)
    .join(' ');
  const result = await runProgram('script', ['-qec', command, '/dev/null']);
  assert.equal(result.code, 0, result.stderr);
  const text = result.stdout.toString();
  // The first table is drawn after clearing; each later one first moves up over the 3 lines drawn.
  assert.ok(text.startsWith('\x1b[J'), JSON.stringify(text.slice(0, 20)));
  const redraws = text.split('\x1b[3A\x1b[J').length - 1;
  assert.ok(redraws >= 2, `${redraws} redraws in ${JSON.stringify(text)}`);
  assert.match(text, /1\.\|-- 127\.0\.0\.1 +0\.0% +3 /);
});

function whyNoScript(): string | false {
  try {
    execFileSync('script', ['--version'], { stdio: 'ignore' });
    return false;
  } catch {
    return 'needs script(1) (util-linux)';
  }
}
