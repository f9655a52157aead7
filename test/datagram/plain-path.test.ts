/**
 * The datagram suite on both paths. The suite itself runs on the native path wherever the addon
 * built (the default); this file runs each of its files again with SOCKKIT_NATIVE=0, on Node's
 * dgram, so neither path rots. Each file runs in a child process, because the path is chosen
 * from the environment.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
/** The native path's own tests: they test the addon, and skip on the plain path. */
const nativeOnly = new Set(['native-io.test.js', 'gso.test.js']);
/** Every file of the datagram suite but this one and the native path's own tests. */
const suite = readdirSync(here)
  .filter((name) => name.endsWith('.test.js'))
  .filter((name) => name !== basename(fileURLToPath(import.meta.url)) && !nativeOnly.has(name))
  .sort();

/** runOnPlainPath runs one test file under SOCKKIT_NATIVE=0 and resolves with its exit code and output. */
function runOnPlainPath(file: string): Promise<{ code: number | null; output: string }> {
  return new Promise((resolve) => {
    // Without NODE_TEST_CONTEXT, which the runner sets for its children: the child runs its tests.
    const { NODE_TEST_CONTEXT: _, ...env } = process.env;
    const child = spawn(process.execPath, ['--test', '--test-reporter=tap', join(here, file)], {
      env: { ...env, SOCKKIT_NATIVE: '0' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => {
      output += chunk.toString();
    });
    child.stderr.on('data', (chunk: Buffer) => {
      output += chunk.toString();
    });
    child.on('close', (code) => resolve({ code, output }));
  });
}

test('the datagram suite has files to run on the plain path', () => {
  assert.ok(suite.includes('packet-conn.test.js'), `found only: ${suite.join(', ')}`);
});

for (const file of suite) {
  test(`${file} passes on the dgram path (SOCKKIT_NATIVE=0)`, { timeout: 9000 }, async () => {
    const { code, output } = await runOnPlainPath(file);
    const failed = output.split('\n').filter((line) => /^\s*not ok /.test(line));
    assert.equal(code, 0, `failed on the dgram path:\n${failed.join('\n')}\n${output.slice(-2000)}`);
    assert.match(output, /^# pass [1-9]/m, 'no test ran');
  });
}
