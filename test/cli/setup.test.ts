import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import {
  accessSync,
  constants,
  copyFileSync,
  existsSync,
  mkdirSync,
  readFileSync,
  statSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { CLI, tempDir } from '../helpers.js';

const run = promisify(execFile);
const root = fileURLToPath(new URL('../../../', import.meta.url));

test('npx sockkit works from the repository root: the built entry point is executable', async () => {
  // On a fresh clone npm links the bin before `prepare` builds it, so the build must set the mode.
  accessSync(CLI, constants.X_OK);
  const { version } = JSON.parse(readFileSync(`${root}package.json`, 'utf8')) as { version: string };
  // npm 11 runs a project's own bin by installing the project into npx's cache, which runs its
  // `prepare` again: an empty cache (as on a fresh machine) shows whether that rebuilds dist/
  // under whatever is using it, this suite included.
  const cache = tempDir();
  const built = statSync(CLI).mtimeMs;
  try {
    const { stdout } = await run('npx', ['--no-install', 'sockkit', '--version'], {
      cwd: root,
      env: { ...process.env, npm_config_cache: cache.path },
    });
    assert.equal(stdout.trim(), version);
    assert.equal(statSync(CLI).mtimeMs, built, 'npx rebuilt dist/');
  } finally {
    cache.remove();
  }
});

test('npm run build starts clean: a compiled test whose source is gone does not survive it', {
  timeout: 9000,
}, async () => {
  // The real build script on a one-file project, so the suite's own dist is never touched.
  const project = tempDir();
  try {
    copyFileSync(join(root, 'package.json'), join(project.path, 'package.json'));
    copyFileSync(join(root, 'tsconfig.json'), join(project.path, 'tsconfig.json'));
    symlinkSync(join(root, 'node_modules'), join(project.path, 'node_modules'));
    mkdirSync(join(project.path, 'src/cli'), { recursive: true });
    writeFileSync(join(project.path, 'src/cli/main.ts'), 'export const built = true;\n');
    const stale = join(project.path, 'dist/test/renamed.test.js');
    mkdirSync(join(project.path, 'dist/test'), { recursive: true });
    writeFileSync(stale, "throw new Error('stale');\n");

    await run('npm', ['run', '--silent', 'build'], { cwd: project.path });

    assert.equal(existsSync(stale), false, 'the stale compiled test survived the build');
    accessSync(join(project.path, 'dist/src/cli/main.js'), constants.X_OK);
  } finally {
    project.remove();
  }
});
