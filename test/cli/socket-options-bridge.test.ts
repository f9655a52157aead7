/**
 * The socket option flags of `forward` and `relay`, checked where they show: forward's listener
 * flags on its listening socket and the clients it accepts, its `--target-*` flags on the
 * connections (and UDP datagrams) to its targets, relay's client flags on its socket endpoints.
 * A flag for the other side's scheme, or `--source-port` where a port would bind twice, is a
 * usage error naming it.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { once } from 'node:events';
import { connect } from 'node:net';
import { test } from 'node:test';
import { promisify } from 'node:util';
import { forwardCommand } from '../../src/cli/commands/forward.js';
import { relayCommand } from '../../src/cli/commands/relay.js';
import { hostPort, runCli, startCli } from '../helpers.js';
import { receiveOne } from '../socket-probe.js';
import {
  connectOutcome,
  freePort,
  keepaliveLeft,
  plainServer,
  refusal,
  timersOf,
} from './socket-options-probes.js';

const run = promisify(execFile);

test('forward: --backlog and --keepalive on the listener, --target-source and --target-keepalive toward the target', {
  timeout: 10_000,
}, async () => {
  const { server, port: targetPort, next } = await plainServer();
  const forward = await startCli([
    'forward',
    'tcp://127.0.0.1:0',
    `tcp://127.0.0.1:${targetPort}`,
    '--backlog',
    '3',
    '--keepalive',
    '9s',
    '--target-source',
    '127.0.0.2',
    '--target-keepalive',
    '7s',
  ]);
  try {
    const { port } = hostPort(forward.urls[0] as string);
    const { stdout } = await run('ss', ['-Hltn', `sport = :${port}`]);
    assert.equal(stdout.trim().split(/\s+/)[2], '3', stdout);
    const client = connect({ host: '127.0.0.1', port });
    await once(client, 'connect');
    const upstream = await next();
    // A byte through the forward: both connections are set up (the options are set on connecting).
    client.write('x');
    await once(upstream, 'data');
    assert.equal(
      upstream.remoteAddress,
      '127.0.0.2',
      'the target sees the connection come from --target-source',
    );
    const [clientTimer] = await timersOf(`( src 127.0.0.1:${port} )`);
    const clientSeconds = keepaliveLeft(clientTimer);
    assert.ok(clientSeconds > 0 && clientSeconds <= 9, `accepted client's timer: ${clientTimer}`);
    const [targetTimer] = await timersOf(`( src 127.0.0.2:${upstream.remotePort} )`);
    const targetSeconds = keepaliveLeft(targetTimer);
    assert.ok(targetSeconds > 0 && targetSeconds <= 7, `target connection's timer: ${targetTimer}`);
    client.destroy();
    upstream.destroy();
  } finally {
    assert.equal((await forward.stop()).code, 0);
    server.close();
  }
});

test('forward udp:// --target-ttl 5 --target-source: the target gets datagrams with TTL 5 from there', {
  timeout: 10_000,
}, async () => {
  const { port, report, stop } = await receiveOne('127.0.0.1');
  const forward = await startCli([
    'forward',
    'udp://127.0.0.1:0',
    `udp://127.0.0.1:${port}`,
    '--target-ttl',
    '5',
    '--target-source',
    '127.0.0.2',
  ]);
  try {
    const { port: listening } = hostPort(forward.urls[0] as string);
    const sent = await runCli([
      'send',
      `udp://127.0.0.1:${listening}`,
      'hops',
      '--timeout',
      '200ms',
      '--retries',
      '0',
    ]);
    assert.equal(sent.code, 1, 'the receiver never answers');
    const seen = await report;
    assert.deepEqual([seen.ttl, seen.host, seen.data], [5, '127.0.0.2', 'hops']);
  } finally {
    stop();
    await forward.stop();
  }
});

test('forward tcp://[::]:0 --ipv6-only (the shared server flag) refuses IPv4 clients', {
  timeout: 10_000,
}, async () => {
  const { server, port: targetPort } = await plainServer();
  const forward = await startCli(['forward', 'tcp://[::]:0', `tcp://127.0.0.1:${targetPort}`, '--ipv6-only']);
  try {
    const { port } = hostPort(forward.urls[0] as string);
    assert.equal(await connectOutcome('127.0.0.1', port), 'ECONNREFUSED');
  } finally {
    assert.equal((await forward.stop()).code, 0);
    server.close();
  }
});

test('relay -s ADDR -p PORT --keepalive 7s: the server sees the socket endpoint come from there, with the timer', {
  timeout: 10_000,
}, async () => {
  const { server, port, next } = await plainServer();
  const sourcePort = await freePort('127.0.0.2');
  const relay = await startCli(
    [
      'relay',
      `tcp://127.0.0.1:${port}`,
      '-',
      '-s',
      '127.0.0.2',
      '-p',
      String(sourcePort),
      '--keepalive',
      '7s',
    ],
    { stdin: 'pipe', listens: 0 },
  );
  try {
    const socket = await next();
    // A byte through the relay: its socket is set up (the options are set on connecting).
    relay.child.stdin?.write('x');
    await once(socket, 'data');
    assert.deepEqual([socket.remoteAddress, socket.remotePort], ['127.0.0.2', sourcePort]);
    const [timer] = await timersOf(`( src 127.0.0.2:${sourcePort} )`);
    const seconds = keepaliveLeft(timer);
    assert.ok(seconds > 0 && seconds <= 7, `relay's timer: ${timer}`);
    socket.end('bye');
    relay.child.stdin?.end();
    const result = await relay.done;
    assert.equal(result.code, 0, result.stderr);
    assert.equal(result.stdout.toString(), 'bye');
  } finally {
    await relay.stop();
    server.close();
  }
});

test('from the command line, a socket flag for the other side, or a port that would bind twice, is one line, exit 2', {
  timeout: 10_000,
}, async () => {
  const [listenerFlag, programTarget, twoSockets] = await Promise.all([
    runCli(['forward', 'unix:/tmp/sockkit-never.sock', 'tcp://127.0.0.1:9', '--keepalive']),
    runCli(['forward', 'tcp://127.0.0.1:0', 'exec:cat', '--no-target-nodelay']),
    runCli(['relay', 'tcp://127.0.0.1:9', 'tcp://127.0.0.1:10', '-p', '4000']),
  ]);
  assert.deepEqual([listenerFlag.code, programTarget.code, twoSockets.code], [2, 2, 2]);
  assert.equal(
    listenerFlag.stderr,
    'sockkit: forward: --keepalive applies to tcp:// or tls:// addresses only, not unix:/tmp/sockkit-never.sock\n',
  );
  assert.equal(
    programTarget.stderr,
    'sockkit: forward: --no-target-nodelay applies to tcp:// or tls:// addresses only, not exec:cat\n',
  );
  assert.equal(
    twoSockets.stderr,
    'sockkit: relay: --source-port 4000 would bind both socket endpoints to one port: give it with one socket endpoint only\n',
  );
});

test('forward and relay refuse a target flag with no target of its schemes, and forward has no --target-source-port', async () => {
  assert.equal(
    await refusal(forwardCommand(), [
      'tcp://127.0.0.1:0',
      'unix:/tmp/sockkit-never.sock',
      '--target-keepalive',
      '9s',
    ]),
    'forward: --target-keepalive applies to tcp:// or tls:// addresses only, not unix:/tmp/sockkit-never.sock',
  );
  assert.equal(
    await refusal(forwardCommand(), ['udp://127.0.0.1:0', 'udp://[::1]:53', '--target-source', '127.0.0.2']),
    'forward: --target-source 127.0.0.2 is IPv4, and ::1 is IPv6: give a source of the same family',
  );
  assert.equal(
    await refusal(relayCommand(), ['sh:true', '-', '--keepalive', '9s']),
    'relay: --keepalive applies to tcp:// or tls:// addresses only, not sh:true or -',
  );
  assert.match(
    await refusal(forwardCommand(), [
      'tcp://127.0.0.1:0',
      'tcp://127.0.0.1:9',
      '--target-source-port',
      '4000',
    ]),
    /unknown option '--target-source-port'/,
  );
});
