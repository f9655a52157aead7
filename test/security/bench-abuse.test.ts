/**
 * `sockkit bench` against servers that die, refuse or misbehave. Whatever the server does, a run
 * ends with its report, the faults counted by kind, one line on stderr naming them, and exit 1:
 * never a stack trace, and never memory that grows with what a hostile server sends.
 */
import assert from 'node:assert/strict';
import { createSocket } from 'node:dgram';
import { readFileSync } from 'node:fs';
import { type AddressInfo, createServer, type Server, type Socket } from 'node:net';
import { describe, test } from 'node:test';
import { parseAddress } from '../../src/address.js';
import { bench } from '../../src/bench/bench.js';
import { type CliResult, startCli } from '../helpers.js';

// biome-ignore lint/suspicious/noExplicitAny: parsed JSON, checked field by field in the tests
type Json = Record<string, any>;

const MiB = 1024 * 1024;

/** BenchRun is a `sockkit bench` child: its pid, its first interval line, and its end. */
interface BenchRun {
  readonly pid: number;
  /** firstInterval settles when the first `--json` interval line is on stdout (the run is under way). */
  readonly firstInterval: Promise<void>;
  readonly done: Promise<CliResult>;
}

/** startBench runs `sockkit bench ARGS --json`, killed after 9 s if it has not ended. */
async function startBench(args: readonly string[]): Promise<BenchRun> {
  const running = await startCli(['bench', ...args, '--json'], { listens: 0, timeout: 9000 });
  return {
    pid: running.child.pid as number,
    // Settles on the first interval line, or when the run ends without one.
    firstInterval: running.waitFor(/"type":"interval"/, 'stdout', 9000).then(
      () => {},
      () => {},
    ),
    done: running.done,
  };
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
 * `sockkit: bench URL: N connection errors (N kind, ...)`, N grouped by thousands, with no stack trace.
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
  const byKind = counted
    .map(([kind, n]) => `${n.toLocaleString('en-US')} ${kind.replace('_', ' ')}`)
    .join(', ');
  assert.match(
    lines[0] as string,
    new RegExp(
      `^sockkit: bench \\S+: (.*, )?${errors.toLocaleString('en-US')} connection errors? \\(${byKind}\\)`,
    ),
  );
  assert.doesNotMatch(result.stderr, /^\s+at |internal error/m);
  return summary;
}

function listening(server: Server): Promise<number> {
  return new Promise((resolve) =>
    server.listen(0, '127.0.0.1', () => resolve((server.address() as AddressInfo).port)),
  );
}

function closed(server: Server): Promise<void> {
  return new Promise((resolve) => server.close(() => resolve()));
}

describe('bench against a server that dies or refuses', () => {
  for (const threads of ['1', '2']) {
    test(`a server killed mid-run ends the run with its report and the errors by kind (--threads ${threads})`, {
      timeout: 9500,
    }, async () => {
      const echo = await startCli(['echo', 'tcp://127.0.0.1:0']);
      const run = await startBench([echo.urls[0] as string, '-c', '3', '--threads', threads, '-t', '6s']);
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
        const run = await startBench([echo.urls[0] as string, '-c', '5', '--threads', threads, '-t', '1s']);
        const result = await run.done;
        const summary = assertFailedWithKinds(result, 3, ['reset', 'closed']);
        assert.ok(summary.messages > 0, 'the two accepted connections were loaded');
        assert.equal(summary.mismatches, 0);
      } finally {
        await echo.stop();
      }
    });
  }
});

describe('bench against a server that sends more than it was sent', () => {
  test('a tcp server that sends endlessly is a protocol error on that connection, and memory stays bounded', {
    timeout: 9500,
  }, async (t) => {
    // The first connection gets its first message echoed, then bytes without end; the others, an echo.
    let accepted = 0;
    let flooded = 0;
    let floodClosed: (hwmKiB: number | undefined) => void = () => {};
    const floodEnded = new Promise<number | undefined>((resolve) => {
      floodClosed = resolve;
    });
    let pid = 0;
    const flood = Buffer.alloc(64 * 1024, 0x61);
    const server = createServer((socket: Socket) => {
      socket.on('error', () => {});
      accepted += 1;
      if (accepted > 1) return void socket.pipe(socket);
      socket.once('data', (first) => {
        socket.write(first);
        const pump = (): void => {
          while (!socket.destroyed && socket.write(flood)) flooded += flood.length;
        };
        socket.on('drain', pump);
        pump();
      });
      // The bench is still running (its other connection keeps it going): read its peak memory now.
      socket.on('close', () => floodClosed(highWaterKiB(pid)));
    });
    const port = await listening(server);
    try {
      const run = await startBench([`tcp://127.0.0.1:${port}`, '-c', '2', '-t', '2s']);
      pid = run.pid;
      const hwmKiB = await Promise.race([floodEnded, run.done.then(() => undefined)]);
      const result = await run.done;
      assert.ok(hwmKiB !== undefined, 'the flooded connection was closed while the bench still ran');
      t.diagnostic(`bench peak memory (VmHWM) ${hwmKiB} KiB; the server got ${flooded} bytes out`);
      assert.ok(hwmKiB < 200 * 1024, `bench peak memory ${hwmKiB} KiB`);
      assert.ok(flooded < 32 * MiB, `the server got ${flooded} bytes out before the bench closed it`);
      const summary = assertFailedWithKinds(result, 1, ['protocol']);
      assert.equal(summary.errors_by_kind.protocol, 1);
      assert.ok(summary.messages > 0, 'the well-behaved connection ran on');
    } finally {
      await closed(server);
    }
  });

  test('in reconnect mode too, a reply longer than the message fails that round as a protocol error', {
    timeout: 9500,
  }, async () => {
    const server = createServer((socket) => {
      socket.on('error', () => {});
      socket.on('data', (chunk) => socket.write(Buffer.concat([chunk, Buffer.from('and more')])));
    });
    const port = await listening(server);
    try {
      const report = await bench({
        address: parseAddress(`tcp://127.0.0.1:${port}`),
        reconnect: true,
        duration: 300,
      });
      assert.ok(report.errorsByKind.protocol > 0, JSON.stringify(report));
      assert.equal(report.errors, report.errorsByKind.protocol);
      assert.equal(report.mismatches, 0);
    } finally {
      await closed(server);
    }
  });

  test('a udp server that answers every datagram ten times fails the run, naming the extra replies', {
    timeout: 9500,
  }, async () => {
    const server = createSocket('udp4');
    server.on('message', (message, peer) => {
      for (let i = 0; i < 10; i += 1) server.send(message, peer.port, peer.address);
    });
    await new Promise<void>((resolve) => server.bind(0, '127.0.0.1', resolve));
    try {
      const run = await startBench([`udp://127.0.0.1:${server.address().port}`, '-c', '2', '-t', '500ms']);
      const result = await run.done;
      assert.equal(result.code, 1, result.stderr);
      const summary = summaryOf(result);
      assert.ok(summary.duplicated > summary.messages, JSON.stringify(summary));
      assert.match(
        result.stderr,
        /^sockkit: bench udp:\/\/127\.0\.0\.1:\d+: [\d,]+ replies more than the requests sent \(duplicated\)\n$/,
      );
    } finally {
      server.close();
    }
  });
});

/** highWaterKiB is a live process's peak resident memory (VmHWM), or undefined once it has exited. */
function highWaterKiB(pid: number): number | undefined {
  try {
    const match = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return match ? Number(match[1]) : undefined;
  } catch {
    return undefined;
  }
}
