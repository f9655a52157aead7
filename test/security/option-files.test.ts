/**
 * A flag that names a file read whole before the run (`--compare`, `--requests`, `--ca`,
 * `--cert`, `--key`) given a device, a FIFO nobody writes, a directory or a file past 64 MiB: a
 * usage error, one line naming the flag, the file and the limit, at once. Before, /dev/zero was
 * read until memory ran out and a FIFO was waited on for ever.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { closeSync, ftruncateSync, openSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { runCli, tempDir } from '../helpers.js';

describe('files named by flags are bounded', () => {
  const dir = tempDir();
  const fifo = join(dir.path, 'fifo');
  const huge = join(dir.path, 'huge.json');
  before(() => {
    execFileSync('mkfifo', [fifo]);
    // Sparse: 65 MiB long, no disk used.
    const fd = openSync(huge, 'w');
    ftruncateSync(fd, 65 * 1024 * 1024);
    closeSync(fd);
  });
  after(() => dir.remove());

  /** Each refused at once: exit 2, one line naming the flag and the file, and the limit where the size is the cause. */
  async function expectRefused(args: string[], flag: string, file: string, why: RegExp): Promise<void> {
    const result = await runCli(args, { timeout: 8000 });
    assert.equal(result.code, 2, `${args.join(' ')}: ${result.stderr}`);
    const lines = result.stderr.trim().split('\n');
    assert.equal(lines.length, 1, result.stderr);
    assert.equal(lines[0]?.startsWith(`sockkit: ${flag}: cannot read ${file}: `), true, result.stderr);
    assert.match(lines[0] as string, why);
  }

  const notRegular = /not a regular file \(at most 64MiB is read\)$/;
  const tooLarge = /larger than 64MiB, the most that is read$/;

  test('bench --compare: /dev/zero, a FIFO, a directory and a 65 MiB file are usage errors', {
    timeout: 10_000,
  }, async () => {
    const bench = (file: string): string[] => ['bench', 'tcp://127.0.0.1:9', '--compare', file];
    await Promise.all([
      expectRefused(bench('/dev/zero'), '--compare', '/dev/zero', notRegular),
      expectRefused(bench(fifo), '--compare', fifo, notRegular),
      expectRefused(bench(dir.path), '--compare', dir.path, /a directory, not a file$/),
      expectRefused(bench(huge), '--compare', huge, tooLarge),
    ]);
  });

  test('bench --report: a FIFO nobody reads and a directory are usage errors before the run', {
    timeout: 10_000,
  }, async () => {
    const bench = (file: string): string[] => ['bench', 'tcp://127.0.0.1:9', '--report', file];
    const results = await Promise.all([runCli(bench(fifo)), runCli(bench(dir.path))]);
    assert.deepEqual(
      results.map((r) => [r.code, r.stderr]),
      [
        [2, `sockkit: --report: cannot write ${fifo}: not a regular file\n`],
        [2, `sockkit: --report: cannot write ${dir.path}: a directory, not a file\n`],
      ],
    );
  });

  test('bench --requests: a FIFO and a 65 MiB file are usage errors', { timeout: 10_000 }, async () => {
    const bench = (file: string): string[] => [
      'bench',
      'tcp://127.0.0.1:9',
      '--requests',
      file,
      '--reply-size',
      '4',
    ];
    await Promise.all([
      expectRefused(bench(fifo), '--requests', fifo, notRegular),
      expectRefused(bench(huge), '--requests', huge, tooLarge),
    ]);
  });

  test('listen and connect tls://: --cert, --key and --ca of a device, a FIFO or a 65 MiB file are usage errors', {
    timeout: 10_000,
  }, async () => {
    await Promise.all([
      expectRefused(
        ['listen', 'tls://127.0.0.1:0', '--cert', fifo, '--key', fifo],
        '--cert',
        fifo,
        notRegular,
      ),
      expectRefused(['listen', 'tls://127.0.0.1:0', '--cert', huge, '--key', huge], '--cert', huge, tooLarge),
      expectRefused(['connect', 'tls://127.0.0.1:9', '--ca', '/dev/zero'], '--ca', '/dev/zero', notRegular),
    ]);
  });

  test('scan --tls --ca of a FIFO is a usage error', { timeout: 10_000 }, async () => {
    await expectRefused(['scan', '127.0.0.1', '9', '--tls', '--ca', fifo], '--ca', fifo, notRegular);
  });
});
