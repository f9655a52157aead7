import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

const INDEX = fileURLToPath(new URL('../src/index.js', import.meta.url));

/**
 * Every command loads the library's index, so what the index loads is every command's start-up
 * (`connect --help` took 0.35 s). A package only one feature needs loads when that feature runs:
 * ioredis when a chat connects to Redis, hdr-histogram-js when bench records a latency,
 * selfsigned when a certificate is made.
 */
test('loading the library loads no package that only one feature needs', { timeout: 9000 }, async () => {
  const script = `
    import { createRequire } from 'node:module';
    await import(${JSON.stringify(INDEX)});
    const packages = Object.keys(createRequire(import.meta.url).cache)
      .map((path) => /node_modules\\/((?:@[^/]+\\/)?[^/]+)/.exec(path)?.[1])
      .filter(Boolean);
    console.log(JSON.stringify([...new Set(packages)]));`;
  const { stdout } = await promisify(execFile)(process.execPath, ['--input-type=module', '-e', script]);
  const loaded: string[] = JSON.parse(stdout);
  for (const name of ['ioredis', 'hdr-histogram-js', 'selfsigned'])
    assert.ok(!loaded.includes(name), `${name} is loaded with the library (loaded: ${loaded.join(', ')})`);
});
