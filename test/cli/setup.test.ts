import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { accessSync, constants, readFileSync } from 'node:fs';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { CLI } from '../helpers.js';

const run = promisify(execFile);
const root = fileURLToPath(new URL('../../../', import.meta.url));

test('npx sockkit works from the repository root: the built entry point is executable', async () => {
  // On a fresh clone npm links the bin before `prepare` builds it, so the build must set the mode.
  accessSync(CLI, constants.X_OK);
  const { version } = JSON.parse(readFileSync(`${root}package.json`, 'utf8')) as { version: string };
  const { stdout } = await run('npx', ['--no-install', 'sockkit', '--version'], { cwd: root });
  assert.equal(stdout.trim(), version);
});
