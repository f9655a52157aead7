/**
 * `sockkit bench` against servers that die, refuse or misbehave. Whatever the server does, a run
 * ends with its report, the faults counted by kind, one line on stderr naming them, and exit 1:
 * never a stack trace, and never memory that grows with what a hostile server sends.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { describe, test } from 'node:test';
import { CLI, type CliResult, startCli } from '../helpers.js';

// biome-ignore lint/suspicious/noExplicitAny: parsed JSON, checked field by field in the tests
type Json = Record<string, any>;

/** BenchRun is a `sockkit bench` child: its pid, its first interval line, and its end. */
interface BenchRun {
  readonly pid: number;
  /** firstInterval settles when the first `--json` interval line is on stdout (the run is under way). */
  readonly firstInterval: Promise<void>;
  readonly done: Promise<CliResult>;
}

/** startBench runs `sockkit bench ARGS --json`, killed after 9 s if it has not ended. */
function startBench(args: readonly string[]): BenchRun {
  const child = spawn(process.execPath, [CLI, 'bench', ...args, '--json'], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const out: Buffer[] = [];
  let err = '';
  let interval: () => void = () => {};
  const firstInterval = new Promise<void>((resolve) => {
    interval = resolve;
  });
  child.stdout.on('data', (chunk: Buffer) => {
    out.push(chunk);
    if (Buffer.concat(out).includes('"type":"interval"')) interval();
  });
  child.stderr.on('data', (chunk: Buffer) => {
    err += chunk.toString();
  });
  const timer = setTimeout(() => child.kill('SIGKILL'), 9000);
  const done = new Promise<CliResult>((resolve) => {
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      interval();
      resolve({ code, signal, stdout: Buffer.concat(out), stderr: err });
    });
  });
  return { pid: child.pid as number, firstInterval, done };
}

/** summaryOf is the run's last JSON line, which must be its summary. */
function summaryOf(result: CliResult): Json {
  const last = result.stdout.toString().trim().split('\n').pop() ?? '';
  assert.match(last, /"type":"summary"/, `no summary on stdout; stderr: ${result.stderr}`);
  return JSON.parse(last) as Json;
}

/**
 * assertFailedWithKinds checks the end of a run that lost connections: exit 1, the summary's
 * errors split by kind (each kind one of `kinds`, adding up to `errors`), and one stderr line,
 * `sockkit: bench URL: N connection errors (N kind, ...)`, with no stack trace.
 */
function assertFailedWithKinds(result: CliResult, errors: number, kinds: readonly string[]): Json {
  assert.equal(result.code, 1, result.stderr);
  const summary = summaryOf(result);
  assert.equal(summary.errors, errors, JSON.stringify(summary.errors_by_kind));
  const counted = Object.entries(summary.errors_by_kind as Record<string, number>).filter(([, n]) => n > 0);
  assert.equal(
    counted.reduce((sum, [, n]) => sum + n, 0),
    errors,
  );
  for (const [kind] of counted) assert.ok(kinds.includes(kind), `unexpected kind ${kind}`);
  const lines = result.stderr.trimEnd().split('\n');
  assert.equal(lines.length, 1, result.stderr);
  const byKind = counted.map(([kind, n]) => `${n} ${kind.replace('_', ' ')}`).join(', ');
  assert.match(
    lines[0] as string,
    new RegExp(`^sockkit: bench \\S+: (.*, )?${errors} connection errors \\(${byKind}\\)`),
  );
  assert.doesNotMatch(result.stderr, /^\s+at |internal error/m);
  return summary;
}

describe('bench against a server that dies or refuses', () => {
  for (const threads of ['1', '2']) {
    test(`a server killed mid-run ends the run with its report and the errors by kind (--threads ${threads})`, {
      timeout: 9500,
    }, async () => {
      const echo = await startCli(['echo', 'tcp://127.0.0.1:0']);
      const run = startBench([echo.urls[0] as string, '-c', '3', '--threads', threads, '-t', '6s']);
      await run.firstInterval;
      echo.child.kill('SIGKILL');
      await echo.done;
      const summary = assertFailedWithKinds(await run.done, 3, ['reset', 'closed']);
      assert.ok(summary.messages > 0, 'the report covers the messages before the kill');
      assert.ok(
        summary.duration_s < 5,
        `the run ended when its last connection did (${summary.duration_s} s)`,
      );
    });

    test(`--max-connections 2 with -c 5: three connections reset, the other two run on (--threads ${threads})`, {
      timeout: 9500,
    }, async () => {
      const echo = await startCli(['echo', 'tcp://127.0.0.1:0', '--max-connections', '2']);
      try {
        const result = await startBench([echo.urls[0] as string, '-c', '5', '--threads', threads, '-t', '1s'])
          .done;
        const summary = assertFailedWithKinds(result, 3, ['reset', 'closed']);
        assert.ok(summary.messages > 0, 'the two accepted connections were loaded');
        assert.equal(summary.mismatches, 0);
      } finally {
        await echo.stop();
      }
    });
  }
});
