/**
 * `npm install`'s prepare step: build, unless dist/ is already newer than every source file.
 *
 * Why not always build: npm 11 runs a project's own bin (`npx sockkit` in a clone) by installing
 * the clone into npx's cache, and that install runs `prepare` again, in this folder. An
 * unconditional build would delete dist/ under whatever is using it: the test suite calls
 * `npx sockkit`, and its other files would find their modules gone. `npm run build` itself always
 * starts clean.
 */
import { execFileSync } from 'node:child_process';
import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';

/** newest returns the latest modification time of `path`, searching folders. */
function newest(path) {
  const stats = statSync(path, { throwIfNoEntry: false });
  if (!stats) return 0;
  if (!stats.isDirectory()) return stats.mtimeMs;
  return Math.max(0, ...readdirSync(path).map((name) => newest(join(path, name))));
}

const built = statSync('dist/src/cli/main.js', { throwIfNoEntry: false })?.mtimeMs ?? 0;
const sources = Math.max(...['src', 'test', 'tsconfig.json', 'package.json'].map(newest));
if (built <= sources) execFileSync('npm', ['run', 'build'], { stdio: 'inherit' });
