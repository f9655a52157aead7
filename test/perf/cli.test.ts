/** The `sockkit perf` and `sockkit perf serve` commands, run as a user runs them. */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { hostPort, type Running, runCli, startCli } from '../helpers.js';

describe('sockkit perf (command line)', () => {
  let server: Running;
  let url: string;
  before(async () => {
    server = await startCli(['perf', 'serve', 'tcp://127.0.0.1:0'], { listens: 2 });
    const tcp = server.urls.find((u) => u.startsWith('tcp://')) as string;
    url = `tcp://127.0.0.1:${hostPort(tcp).port}`;
    assert.ok(server.urls.includes(`udp://127.0.0.1:${hostPort(tcp).port}`), 'UDP on the same port');
  });
  after(async () => {
    await server.stop();
  });

  test('--help shows examples for the client and the server', { timeout: 8000 }, async () => {
    const client = await runCli(['perf', '--help']);
    assert.equal(client.code, 0);
    assert.match(client.stdout.toString(), /Examples:\n\s+sockkit perf serve/);
    assert.match(client.stdout.toString(), /iperf3 -c 127\.0\.0\.1 -p 5201/);
    const serve = await runCli(['perf', 'serve', '--help']);
    assert.equal(serve.code, 0);
    assert.match(serve.stdout.toString(), /--max-per-ip/);
    assert.match(serve.stdout.toString(), /sockkit perf serve tcp:\/\/0\.0\.0\.0:5201 --allow/);
  });

  test('--json prints one object in iperf3 -J shape, with responsiveness under end.sockkit', {
    timeout: 8000,
  }, async () => {
    const result = await runCli(['perf', url, '-t', '500ms', '-i', '250ms', '--json']);
    assert.equal(result.code, 0, result.stderr);
    const json = JSON.parse(result.stdout.toString());
    assert.equal(json.start.test_start.protocol, 'TCP');
    assert.ok(json.intervals.length >= 2);
    assert.ok(json.end.sum_sent.bytes >= json.end.sum_received.bytes);
    assert.ok(json.end.sum_received.bytes > 0);
    assert.ok(json.end.sockkit.responsiveness.loaded.count > 0);
    assert.equal(result.stderr, '');
  });

  test('--json-stream prints start, each interval, then end, one line each', { timeout: 8000 }, async () => {
    const result = await runCli([
      'perf',
      url,
      '-t',
      '500ms',
      '-i',
      '200ms',
      '-u',
      '-b',
      '5M',
      '--json-stream',
    ]);
    assert.equal(result.code, 0, result.stderr);
    const events = result.stdout
      .toString()
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line));
    assert.equal(events[0].event, 'start');
    assert.equal(events.at(-1).event, 'end');
    assert.ok(events.filter((e) => e.event === 'interval').length >= 2);
    assert.ok(events.at(-1).data.sum.packets > 0);
  });

  test('the human report names sender and receiver for each stream', { timeout: 8000 }, async () => {
    const result = await runCli(['perf', url, '-t', '300ms', '-P', '2', '-R', '-i', '0']);
    assert.equal(result.code, 0, result.stderr);
    const text = result.stdout.toString();
    assert.match(text, /^\[ {2}1\] .* sender$/m);
    assert.match(text, /^\[ {2}3\] .* receiver$/m);
    assert.match(text, /^\[SUM\] .* receiver$/m);
    assert.match(text, /under load {2}p50 [\d.]+ ms/);
  });

  test('SIGINT during the test: the intervals so far, a summary marked partial, exit 0; the server is told', {
    timeout: 9000,
  }, async () => {
    const human = await startCli(['perf', url, '-t', '30s', '-i', '200ms'], { listens: 0 });
    // Interrupted once the first interval was measured and printed.
    await human.waitFor(/^\[ {2}1\] +0\.00-/m, 'stdout', 8000);
    const humanResult = await human.stop('SIGINT');
    assert.equal(humanResult.code, 0, humanResult.stderr);
    const text = humanResult.stdout.toString();
    assert.match(text, /^Partial: interrupted after [\d.]+ s; the server's figures were not exchanged$/m);
    assert.match(text, /^\[ {2}1\] +0\.00-[\d.]+ +sec .* sender$/m);
    assert.doesNotMatch(text, /receiver$/m, 'the receiving side was not exchanged');
    assert.match(
      humanResult.stderr,
      /^sockkit: perf tcp:\/\/127\.0\.0\.1:\d+: interrupted after [\d.]+ s of 30 s: the summary is partial/,
    );
    // The server ends the test at once, naming why.
    await server.waitFor(/client-terminate/, 'stderr', 8000);
  });

  test('a refused connection is one line and exit 1; contradictory flags exit 2', {
    timeout: 8000,
  }, async () => {
    const closedPort = hostPort(url).port === 1 ? 2 : 1;
    const refused = await runCli(['perf', `tcp://127.0.0.1:${closedPort}`, '-t', '1']);
    assert.equal(refused.code, 1);
    assert.equal(refused.stderr.trim().split('\n').length, 1);
    assert.match(refused.stderr, /^sockkit: connect tcp:\/\/127\.0\.0\.1:\d+: connection refused/);
    const usage = await runCli(['perf', url, '-R', '--bidir']);
    assert.equal(usage.code, 2);
    assert.match(usage.stderr, /^sockkit: perf: --reverse and --bidir exclude each other/);
  });

  test('the server prints one line per finished test, and a summary when it stops', {
    timeout: 8000,
  }, async () => {
    const result = await runCli(['perf', url, '-t', '200ms', '-i', '0']);
    assert.equal(result.code, 0, result.stderr);
    // The line comes once the client has said IPERF_DONE; wait for it on the server's stderr.
    for (
      let i = 0;
      i < 200 && !/tcp forward, 1 stream \(sockkit client\): .* in \(/.test(server.stderr());
      i++
    ) {
      await new Promise((resolve) => server.child.stderr?.once('data', resolve));
    }
    assert.match(
      server.stderr(),
      /^sockkit: perf 127\.0\.0\.1:\d+: tcp forward, 1 stream \(sockkit client\): /m,
    );
  });

  test("perf serve takes the servers' limit flags: --deny refuses a client before its test", {
    timeout: 8000,
  }, async () => {
    const denying = await startCli(['perf', 'serve', 'tcp://127.0.0.1:0', '--deny', '127.0.0.0/8'], {
      listens: 2,
    });
    try {
      const tcp = denying.urls.find((u) => u.startsWith('tcp://')) as string;
      const result = await runCli(['perf', tcp, '-t', '200ms']);
      assert.equal(result.code, 1);
      assert.equal(result.stderr.trim().split('\n').length, 1);
      // Reset at accept: the connect itself, or the test's first read, reports it.
      assert.match(
        result.stderr,
        /^sockkit: (connect|perf) tcp:\/\/127\.0\.0\.1:\d+: connection reset by peer/,
      );
    } finally {
      await denying.stop();
    }
    assert.match(denying.stderr(), /refused 1 by limit \(access 1\)/);
  });
});
