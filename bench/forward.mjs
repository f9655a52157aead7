// `node bench/forward.mjs`: what `sockkit forward` costs on the path of real traffic. The same
// load (`sockkit bench`) runs against the C reference echo server directly, through
// `sockkit forward`, and through `socat TCP-LISTEN,fork TCP:`, on two workloads: 64 B ping-pong
// over 50 connections, and 64 KiB messages streamed over 8 connections (4 in flight each). The
// bridges run on CPU 0; the echo server and the load share CPU 1, the same in every case, so the
// only difference between the rows is the bridge. Rounds alternate the three; medians are printed.
//
//   npm run build && node bench/forward.mjs                 # 3 rounds of 3 s
//   BENCH_ROUNDS=5 BENCH_SECONDS=5 SOCKKIT_REF_DIR=/work/shared/bench node bench/forward.mjs
//   node bench/forward.mjs --json                           # one JSON object per result
//   SOCKKIT_BASELINE=/tmp/old-checkout node bench/forward.mjs  # adds that build's forward, A B A B
//   BENCH_ONLY=ping-pong node bench/forward.mjs             # the workloads whose name has that
//
// The C echo server dies of SIGPIPE when it writes to a connection its peer has reset (a load
// that stops with replies in flight), so it runs with SIGPIPE ignored; it is still checked before
// and after every run, restarted on its port if gone, and the run repeated once.
//
// Targets (issue 13): forward adds at most 25% to the direct ping-pong latency (p50), and carries
// at least 2x socat's message rate.
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, statSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const cli = join(root, 'dist/src/cli/main.js');
const json = process.argv.includes('--json');
const rounds = Number(process.env.BENCH_ROUNDS ?? 3);
const seconds = Number(process.env.BENCH_SECONDS ?? 3);
const refDir = resolve(root, process.env.SOCKKIT_REF_DIR ?? '../shared/bench');
const workloads = [
  { name: '64 B ping-pong x50', flags: ['-c', '50', '-s', '64', '-d', '1'] },
  { name: '64 KiB streaming x8', flags: ['-c', '8', '-s', '64KiB', '-d', '4'] },
].filter((w) => w.name.includes(process.env.BENCH_ONLY ?? ''));

if (!existsSync(cli)) stop('build first: npm run build');
const echoServer = buildEchoServer();
const children = [];
process.on('exit', () => {
  for (const child of children) child.kill('SIGKILL');
});

const echoPort = await freePort();
// `sh` sets SIGPIPE to ignored and `exec` keeps it so (Node's spawn resets every signal).
const echoCommand = [
  'taskset',
  '-c',
  '1',
  'sh',
  '-c',
  'trap "" PIPE; exec "$0" "$@"',
  echoServer,
  'tcp',
  String(echoPort),
  '127.0.0.1',
];
let echo = await start(echoCommand, echoPort);
const forwarders = [['sockkit forward', cli]];
const baseline = process.env.SOCKKIT_BASELINE;
if (baseline) {
  const baselineCli = join(resolve(baseline), 'dist/src/cli/main.js');
  if (!existsSync(baselineCli)) stop(`no ${baselineCli}: build the baseline checkout first`);
  forwarders.push(['sockkit forward (baseline)', baselineCli]);
}
const forwardPaths = [];
for (const [name, forwardCli] of forwarders) {
  const port = await freePort();
  const child = await start(
    [
      'taskset',
      '-c',
      '0',
      'node',
      forwardCli,
      'forward',
      `tcp://127.0.0.1:${port}`,
      `tcp://127.0.0.1:${echoPort}`,
    ],
    port,
  );
  forwardPaths.push([name, port, child.pid]);
}
const socatPort = await freePort();
const socat = await start(
  [
    'taskset',
    '-c',
    '0',
    'socat',
    `TCP-LISTEN:${socatPort},bind=127.0.0.1,fork,reuseaddr`,
    `TCP:127.0.0.1:${echoPort}`,
  ],
  socatPort,
);
// Each bridge's CPU time per message tells its cost apart from the machine's load (socat's
// includes the processes it forks, once they are reaped).
const paths = [
  ['direct', echoPort, undefined],
  ...forwardPaths,
  ['socat TCP-LISTEN,fork TCP:', socatPort, socat.pid],
];

if (!json)
  console.log(`forward bench: ${rounds} round(s) of ${seconds} s; medians; C echo server from ${refDir}`);
for (const workload of workloads) {
  const runs = new Map(paths.map(([name]) => [name, []]));
  for (let round = 0; round < rounds; round += 1) {
    for (const [name, port, pid] of paths) {
      const result = await measured(`${workload.name}, ${name}`, port, pid, workload.flags);
      if (result) runs.get(name).push(result);
    }
  }
  const rows = paths.map(([name]) => {
    const list = runs.get(name);
    if (list.length === 0) stop(`${workload.name}, ${name}: no run produced a figure`);
    return {
      workload: workload.name,
      path: name,
      msgs_per_second: median(list.map((r) => r.messages_per_second)),
      p50_us: median(list.map((r) => r.latency_us.p50)),
      p99_us: median(list.map((r) => r.latency_us.p99)),
      faults: list.reduce((sum, r) => sum + r.mismatches + r.errors, 0),
      ...(list[0].bridge_cpu_us_per_msg === undefined
        ? {}
        : { bridge_cpu_us_per_msg: round3(median(list.map((r) => r.bridge_cpu_us_per_msg))) }),
    };
  });
  const direct = rows[0];
  const socat = rows[rows.length - 1];
  const forwardRows = rows.slice(1, -1);
  for (const forward of forwardRows) {
    forward.added_latency = round3(forward.p50_us / direct.p50_us - 1);
    forward.rate_vs_socat = round3(forward.msgs_per_second / socat.msgs_per_second);
    forward.rate_vs_direct = round3(forward.msgs_per_second / direct.msgs_per_second);
  }
  for (const row of rows) {
    if (json) console.log(JSON.stringify(row));
    else
      console.log(
        `  ${row.workload.padEnd(20)} ${row.path.padEnd(28)} ${row.msgs_per_second.toLocaleString('en-US').padStart(10)} msgs/s  p50 ${String(row.p50_us).padStart(6)} us  p99 ${String(row.p99_us).padStart(6)} us${row.bridge_cpu_us_per_msg === undefined ? '' : `  bridge CPU ${row.bridge_cpu_us_per_msg.toFixed(1)} us/msg`}${row.faults ? `  FAULTS ${row.faults}` : ''}`,
      );
  }
  if (!json)
    for (const forward of forwardRows)
      console.log(
        `  ${forward.path}: p50 latency ${forward.added_latency >= 0 ? '+' : ''}${Math.round(forward.added_latency * 100)}% over direct, ` +
          `${forward.rate_vs_socat}x socat's rate, ${forward.rate_vs_direct}x the direct rate`,
      );
}
process.exit(0);

/**
 * measured runs one load through PORT and returns its summary, with the bridge's CPU per message
 * when `pid` is a bridge. The echo server is checked before and after: gone, it is restarted, and
 * a run it did not survive is made once more. A run that fails is reported and yields undefined.
 */
async function measured(label, port, pid, flags) {
  for (let attempt = 1; attempt <= 2; attempt += 1) {
    await echoAlive(`before ${label}`);
    const before = pid ? cpuSeconds(pid) : 0;
    let result;
    try {
      result = await load(port, flags);
    } catch (err) {
      console.error(`bench: ${label}: ${err.message}`);
    }
    if (pid) await reaped(pid);
    if (!(await echoAlive(`during ${label}`))) continue;
    if (!result) return undefined;
    if (pid) result.bridge_cpu_us_per_msg = ((cpuSeconds(pid) - before) * 1e6) / result.messages;
    return result;
  }
  console.error(`bench: ${label}: no figure (the echo server died twice)`);
  return undefined;
}

/** echoAlive restarts the echo server if it has exited, saying so; it returns whether it was running. */
async function echoAlive(when) {
  if (echo.exitCode === null && echo.signalCode === null) return true;
  const how = echo.signalCode ? `signal ${echo.signalCode}` : `status ${echo.exitCode}`;
  console.error(`bench: the C echo server exited (${how}) ${when}; restarted on port ${echoPort}`);
  echo = await start(echoCommand, echoPort);
  return false;
}

/** load runs `sockkit bench` on CPU 1 against 127.0.0.1:PORT and returns its JSON summary. */
async function load(port, flags) {
  const out = await output([
    'taskset',
    '-c',
    '1',
    'node',
    cli,
    'bench',
    `tcp://127.0.0.1:${port}`,
    ...flags,
    '-t',
    `${seconds}s`,
    '--json',
  ]);
  return JSON.parse(out.trim().split('\n').pop());
}

function buildEchoServer() {
  const source = join(refDir, 'echo_server.c');
  if (!existsSync(source)) stop(`no ${source}: set SOCKKIT_REF_DIR to the folder of the C reference tools`);
  const work = join(tmpdir(), 'sockkit-bench');
  mkdirSync(work, { recursive: true });
  const binary = join(work, 'echo_server');
  if (!existsSync(binary) || statSync(binary).mtimeMs < statSync(source).mtimeMs) {
    if (spawnSync('gcc', ['-O2', '-o', binary, source], { stdio: 'inherit' }).status !== 0)
      stop('gcc failed');
  }
  return binary;
}

/** cpuSeconds is the CPU time of `pid` and of the children it has reaped. */
function cpuSeconds(pid) {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
  return (Number(fields[11]) + Number(fields[12]) + Number(fields[13]) + Number(fields[14])) / 100;
}

/** reaped waits (bounded) until `pid` has no children left: socat's per-connection processes. */
async function reaped(pid) {
  for (let i = 0; i < 100; i += 1) {
    const children = readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8').trim();
    if (children === '') return;
    await sleep(50);
  }
}

/** start runs a server and waits (bounded) until something accepts on PORT; it returns the process. */
async function start(command, port) {
  const child = spawn(command[0], command.slice(1), { stdio: ['ignore', 'ignore', 'ignore'] });
  children.push(child);
  for (let i = 0; i < 200; i += 1) {
    if (child.exitCode !== null || child.signalCode !== null) stop(`${command.join(' ')} exited`);
    if (spawnSync('ss', ['-H', '-tln', `sport = :${port}`], { encoding: 'utf8' }).stdout.trim() !== '')
      return child;
    await sleep(50);
  }
  stop(`${command.join(' ')} did not listen on ${port}`);
}

function output(command) {
  return new Promise((ok, no) => {
    const child = spawn(command[0], command.slice(1), { stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    child.stdout.on('data', (d) => {
      out += d;
    });
    child.on('exit', (code) =>
      out.includes('"summary"')
        ? ok(out)
        : no(new Error(`the load exited with status ${code} and no summary`)),
    );
  });
}

function freePort() {
  return new Promise((ok) => {
    const server = createServer().listen(0, '127.0.0.1', () => {
      const { port } = server.address();
      server.close(() => ok(port));
    });
  });
}

function median(values) {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor((sorted.length - 1) / 2)] ?? 0;
}

function round3(value) {
  return Math.round(value * 1000) / 1000;
}

function stop(message) {
  console.error(`bench: ${message}`);
  process.exit(1);
}
