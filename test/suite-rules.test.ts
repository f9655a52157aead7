/**
 * Rules the test files themselves must keep for `npm test` to run all of them. It runs with
 * `--test-force-exit` (a failed test that leaves a server open must not hang its file), which ends
 * a file's process as soon as the tests declared so far are done.
 */
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';

/** The test sources: this file is compiled to dist/test/, and they are in test/ at the root. */
const sources = join(fileURLToPath(new URL('.', import.meta.url)), '..', '..', 'test');

function testFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) return testFiles(path);
    return entry.name.endsWith('.test.ts') ? [path] : [];
  });
}

test('no test file awaits at its top level after declaring a test: the tests after it would never run', () => {
  const files = testFiles(sources);
  assert.ok(files.length > 100, `${files.length} test files found in ${sources}`);
  const offenders: string[] = [];
  for (const file of files) {
    const lines = readFileSync(file, 'utf8').split('\n');
    const firstTest = lines.findIndex((line) => /^(describe|test|suite|it)\(/.test(line));
    if (firstTest < 0) continue;
    lines.forEach((line, index) => {
      if (index > firstTest && /^(?:(?:const|let|var|for|if)\b.*)?\bawait\b/.test(line))
        offenders.push(`${file.slice(sources.length + 1)}:${index + 1}: ${line.trim()}`);
    });
  }
  assert.deepEqual(offenders, []);
});
