// `npm run bench`: sockkit's echo server side by side with reference servers, in one run, on the
// workloads of docs/performance.md. Every server is pinned to CPU 0 and the load to CPU 1 (on a
// one-core machine both share CPU 0); each workload alternates its servers for ROUNDS rounds and
// reports medians and ratios, since absolute numbers drift on a shared machine.
//
//   npm run bench                      # everything (about 4 minutes)
//   npm run bench -- --quick           # 1 round of 2 s per server
//   npm run bench -- --only tcp,rss    # some workloads: tcp udp stream rss connect tls client
//   npm run bench -- --json            # one JSON object per result line, then nothing else
//   BENCH_ROUNDS=5 BENCH_SECONDS=5 SOCKKIT_REF_DIR=../shared/bench npm run bench
//
// The C reference tools (echo_server.c, echo_load.c) come from SOCKKIT_REF_DIR (default
// ../shared/bench next to the repository); without them the C rows are skipped and the
// load comes from `sockkit bench` instead.
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, statSync } from 'node:fs';
import { availableParallelism, cpus, tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { benchFlags, freePort, output, startPinned, stopProcess } from './processes.mjs';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const cli = join(root, 'dist/src/cli/main.js');
const naive = join(root, 'bench/naive-echo.mjs');
const hold = join(root, 'bench/hold.mjs');
const args = process.argv.slice(2);
const quick = args.includes('--quick');
const json = args.includes('--json');
const only = args.includes('--only') ? args[args.indexOf('--only') + 1].split(',') : undefined;
const rounds = Number(process.env.BENCH_ROUNDS ?? (quick ? 1 : 3));
const seconds = Number(process.env.BENCH_SECONDS ?? (quick ? 2 : 3));
const idleConnections = Number(process.env.BENCH_IDLE_CONNECTIONS ?? 10_000);
const twoCores = availableParallelism() > 1;
const serverCpu = '0';
const loadCpu = twoCores ? '1' : '0';

const work = join(tmpdir(), 'sockkit-bench');
mkdirSync(work, { recursive: true });
const refDir = resolve(root, process.env.SOCKKIT_REF_DIR ?? '../shared/bench');
const ref = buildReference();
const has = (tool) => spawnSync('sh', ['-c', `command -v ${tool}`]).status === 0;
const results = [];
let lastWorkload = '';

if (!existsSync(cli)) fail('build first: npm run build');
if (!has('taskset')) fail('taskset (util-linux) is needed to pin servers and load to CPUs');

header();
const workloads = {
  tcp: () => pingPong('tcp'),
  udp: () => pingPong('udp'),
  stream: streaming,
  rss: idleMemory,
  connect: connectionRate,
  tls: tlsHandshakes,
  client: loadGenerator,
};
for (const [name, run] of Object.entries(workloads)) {
  if (!want(name)) continue;
  try {
    await run();
  } catch (err) {
    // One workload failing (a server that died, a port taken meanwhile) must not hide the others.
    console.error(`bench: ${name}: ${err.message}`);
    process.exitCode = 1;
  }
}
if (!json)
  console.log(`\n${rounds} round(s) of ${seconds} s; medians; ratios measured side by side in this run.`);

function want(name) {
  return !only || only.includes(name);
}

// --- workloads -------------------------------------------------------------------------------

async function pingPong(proto) {
  const servers = [
    ['sockkit echo', (port) => ['node', cli, 'echo', `${proto}://127.0.0.1:${port}`]],
    [`bare Node ${proto === 'udp' ? 'dgram' : 'net'} echo`, (port) => ['node', naive, proto, String(port)]],
  ];
  if (ref) servers.push(['C reference', (port) => [ref.server, proto, String(port)]]);
  if (proto === 'tcp' && has('socat')) {
    servers.push([
      'socat fork+cat',
      (port) => ['socat', `TCP-LISTEN:${port},bind=127.0.0.1,reuseaddr,fork`, 'EXEC:cat'],
    ]);
  }
  if (proto === 'tcp' && has('ncat')) {
    servers.push([
      'ncat -k -e cat',
      (port) => ['ncat', '-l', '127.0.0.1', String(port), '-k', '-e', '/bin/cat'],
    ]);
  }
  const base = ref ? 'C reference' : servers[1][0];
  await compare(
    `${proto.toUpperCase()} 64 B ping-pong x50`,
    proto,
    servers,
    { conns: 50, size: 64, depth: 1 },
    base,
  );
}

async function streaming() {
  const servers = [
    ['sockkit echo', (port) => ['node', cli, 'echo', `tcp://127.0.0.1:${port}`]],
    ['bare Node net echo', (port) => ['node', naive, 'tcp', String(port)]],
  ];
  if (ref) servers.push(['C reference', (port) => [ref.server, 'tcp', String(port)]]);
  const r = Math.max(rounds, quick ? 1 : 5); // bulk runs vary more: five rounds
  await compare(
    'TCP 64 KiB x8, depth 4',
    'tcp',
    servers,
    { conns: 8, size: 65536, depth: 4, rounds: r },
    'bare Node net echo',
  );
}

async function compare(workload, proto, servers, load, base) {
  const runs = new Map(servers.map(([name]) => [name, []]));
  for (let round = 0; round < (load.rounds ?? rounds); round += 1) {
    for (const [name, command] of servers) {
      const port = await freePort();
      const server = await startPinned(serverCpu, command(port), proto, port);
      const cpu0 = cpuTime(server.pid);
      const result = await runLoad(proto, port, load);
      // The C reference exits when a client resets a connection at the end of a bulk run; its
      // figures stand (the load generator checked every byte), its CPU time is then unknown.
      // socat and ncat fork a process per connection, whose CPU time the parent does not see.
      const forks = /socat|ncat/.test(name);
      const cpu = server.exitCode === null && !forks ? cpuTime(server.pid) - cpu0 : Number.NaN;
      await stopProcess(server);
      runs.get(name).push({ ...result, cpuPerMessage: result.msgs > 0 ? (cpu * 1e6) / result.msgs : 0 });
    }
  }
  const baseRate = median(runs.get(base).map((r) => r.msgsPerSecond));
  for (const [name, list] of runs) {
    const rate = median(list.map((r) => r.msgsPerSecond));
    const ratios = list.map((r, i) => r.msgsPerSecond / runs.get(base)[i].msgsPerSecond);
    report({
      workload,
      server: name,
      msgs_per_second: Math.round(rate),
      ratio: round3(median(ratios)),
      ratio_to: base,
      ratio_range: [round3(Math.min(...ratios)), round3(Math.max(...ratios))],
      server_cpu_us_per_msg: round3(median(list.map((r) => r.cpuPerMessage).filter(Number.isFinite))),
      p99_us: median(list.map((r) => r.p99)),
      faults: list.reduce((n, r) => n + r.faults, 0),
      base_msgs_per_second: Math.round(baseRate),
    });
  }
}

async function idleMemory() {
  const servers = [
    ['sockkit echo', (port) => ['node', cli, 'echo', `tcp://127.0.0.1:${port}`]],
    ['sockkit library (no guard)', (port) => ['node', join(root, 'bench/library-echo.mjs'), String(port)]],
    ['bare Node net echo', (port) => ['node', naive, 'tcp', String(port)]],
  ];
  const perConnection = new Map(servers.map(([name]) => [name, []]));
  for (let round = 0; round < rounds; round += 1) {
    for (const [name, command] of servers) {
      const port = await freePort();
      const server = await startPinned(serverCpu, command(port), 'tcp', port);
      await settle();
      const before = rss(server.pid);
      const holder = spawn(
        'taskset',
        ['-c', loadCpu, 'node', hold, '127.0.0.1', String(port), String(idleConnections)],
        {
          stdio: ['pipe', 'pipe', 'inherit'],
        },
      );
      await new Promise((ok, no) => {
        holder.stdout.on('data', (d) => String(d).includes('held') && ok());
        holder.on('exit', (code) => no(new Error(`hold exited ${code}`)));
      });
      await settle(1500);
      const after = rss(server.pid);
      holder.stdin.end();
      await new Promise((ok) => holder.on('exit', ok));
      await stopProcess(server);
      perConnection.get(name).push((after - before) / idleConnections);
    }
  }
  for (const [name, list] of perConnection) perConnection.set(name, median(list));
  const base = perConnection.get('bare Node net echo');
  for (const [name, kib] of perConnection) {
    report({
      workload: `RSS per idle TCP connection (${idleConnections.toLocaleString('en-US')} held)`,
      server: name,
      kib_per_connection: round3(kib),
      ratio: round3(kib / base),
      ratio_to: 'bare Node net echo',
    });
  }
}

async function connectionRate() {
  const servers = [
    ['sockkit echo', (port) => ['node', cli, 'echo', `tcp://127.0.0.1:${port}`]],
    ['bare Node net echo', (port) => ['node', naive, 'tcp', String(port)]],
  ];
  if (ref) servers.push(['C reference', (port) => [ref.server, 'tcp', String(port)]]);
  await compareWithBench('TCP connections/s (connect, echo 64 B, close) x4', 'tcp', servers, [
    '-c',
    '4',
    '--reconnect',
  ]);
}

async function tlsHandshakes() {
  const cert = join(work, 'cert.pem');
  const key = join(work, 'key.pem');
  if (!existsSync(cert)) {
    execFileSync(
      'openssl',
      [
        'req',
        '-x509',
        '-newkey',
        'ec',
        '-pkeyopt',
        'ec_paramgen_curve:prime256v1',
        '-nodes',
        '-subj',
        '/CN=localhost',
        '-days',
        '2',
        '-keyout',
        key,
        '-out',
        cert,
      ],
      { stdio: 'ignore' },
    );
  }
  const servers = [
    [
      'sockkit echo --self-signed',
      (port) => ['node', cli, 'echo', `tls://127.0.0.1:${port}`, '--self-signed'],
    ],
    ['bare Node tls echo', (port) => ['node', naive, 'tls', String(port), cert, key]],
  ];
  await compareWithBench('TLS handshakes/s (new connection, echo 64 B, close) x4', 'tls', servers, [
    '-c',
    '4',
    '--reconnect',
    '--insecure',
  ]);
}

async function compareWithBench(workload, scheme, servers, flags) {
  const runs = new Map(servers.map(([name]) => [name, []]));
  for (let round = 0; round < rounds; round += 1) {
    for (const [name, command] of servers) {
      const port = await freePort();
      const server = await startPinned(serverCpu, command(port), 'tcp', port);
      const summary = await sockkitBench(`${scheme}://127.0.0.1:${port}`, [...flags, '-t', `${seconds}s`]);
      await stopProcess(server);
      runs.get(name).push(summary);
    }
  }
  const base = servers[1][0];
  for (const [name, list] of runs) {
    const ratios = list.map((r, i) => r.connections_per_second / runs.get(base)[i].connections_per_second);
    report({
      workload,
      server: name,
      connections_per_second: Math.round(median(list.map((r) => r.connections_per_second))),
      ratio: round3(median(ratios)),
      ratio_to: base,
      ratio_range: [round3(Math.min(...ratios)), round3(Math.max(...ratios))],
      p99_us: median(list.map((r) => r.latency_us.p99)),
      faults: list.reduce((n, r) => n + r.mismatches + r.errors, 0),
    });
  }
}

async function loadGenerator() {
  if (!ref) return;
  const runs = { c: [], sockkit: [], cCpu: [], sockkitCpu: [] };
  for (let round = 0; round < rounds; round += 1) {
    const port = await freePort();
    const server = await startPinned(serverCpu, [ref.server, 'tcp', String(port)], 'tcp', port);
    // The shell's cutime/cstime after waiting for echo_load: the C client's own CPU time.
    const script = `taskset -c ${loadCpu} ${ref.load} tcp 127.0.0.1 ${port} 50 64 1 ${seconds}; cat /proc/$$/stat`;
    const [line, stat] = (await output('sh', ['-c', script])).trim().split('\n');
    const c = JSON.parse(line);
    const fields = stat.split(') ')[1].split(' ');
    runs.c.push(c.msgs_per_s);
    runs.cCpu.push(((Number(fields[13]) + Number(fields[14])) / 100 / c.msgs) * 1e6);
    const s = await sockkitBench(`tcp://127.0.0.1:${port}`, ['-c', '50', '-t', `${seconds}s`]);
    runs.sockkit.push(s.messages_per_second);
    runs.sockkitCpu.push((s.cpu_s / s.messages) * 1e6);
    await stopProcess(server);
  }
  const ratios = runs.sockkit.map((r, i) => r / runs.c[i]);
  const workload = 'load generator: TCP 64 B ping-pong x50 against the C server';
  report({
    workload,
    server: 'sockkit bench (one thread)',
    msgs_per_second: Math.round(median(runs.sockkit)),
    ratio: round3(median(ratios)),
    ratio_to: 'C echo_load',
    ratio_range: [round3(Math.min(...ratios)), round3(Math.max(...ratios))],
    client_cpu_us_per_msg: round3(median(runs.sockkitCpu)),
  });
  report({
    workload,
    server: 'C echo_load',
    msgs_per_second: Math.round(median(runs.c)),
    ratio: 1,
    ratio_to: 'C echo_load',
    client_cpu_us_per_msg: round3(median(runs.cCpu)),
  });
}

// --- processes ---------------------------------------------------------------------------------

function buildReference() {
  const load = join(work, 'echo_load');
  const server = join(work, 'echo_server');
  for (const [bin, source] of [
    [load, 'echo_load.c'],
    [server, 'echo_server.c'],
  ]) {
    const src = join(refDir, source);
    if (!existsSync(src)) return undefined;
    if (!existsSync(bin) || statSync(bin).mtimeMs < statSync(src).mtimeMs) {
      if (spawnSync('gcc', ['-O2', '-o', bin, src], { stdio: 'inherit' }).status !== 0) return undefined;
    }
  }
  return { load, server };
}

/** runLoad drives a server with the C load generator when there is one, else with sockkit bench. */
async function runLoad(proto, port, { conns, size, depth }) {
  if (ref) {
    const out = await output('taskset', [
      '-c',
      loadCpu,
      ref.load,
      proto,
      '127.0.0.1',
      String(port),
      String(conns),
      String(size),
      String(depth),
      String(seconds),
    ]);
    const r = JSON.parse(out.trim().split('\n').pop());
    return { msgs: r.msgs, msgsPerSecond: r.msgs_per_s, p99: r.p99_us, faults: r.mismatch + r.errors };
  }
  const s = await sockkitBench(`${proto}://127.0.0.1:${port}`, benchFlags({ conns, size, depth }, seconds));
  return {
    msgs: s.messages,
    msgsPerSecond: s.messages_per_second,
    p99: s.latency_us.p99,
    faults: s.mismatches + s.errors,
  };
}

async function sockkitBench(url, flags) {
  const out = await output('taskset', ['-c', loadCpu, 'node', cli, 'bench', url, ...flags, '--json'], true);
  return JSON.parse(out.trim().split('\n').pop());
}

function cpuTime(pid) {
  // utime + stime of the server (and of children it waited for), in seconds.
  let fields;
  try {
    fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
  } catch {
    return Number.NaN; // it has exited
  }
  const ticks = Number(fields[11]) + Number(fields[12]) + Number(fields[13]) + Number(fields[14]);
  return ticks / 100;
}

function rss(pid) {
  const line = readFileSync(`/proc/${pid}/status`, 'utf8')
    .split('\n')
    .find((l) => l.startsWith('VmRSS:'));
  return Number(line.split(/\s+/)[1]); // KiB
}

// --- output ------------------------------------------------------------------------------------

function header() {
  if (json) return;
  const cpu = cpus()[0]?.model ?? 'unknown CPU';
  console.log(`sockkit bench suite: ${availableParallelism()} CPUs (${cpu}), Node ${process.version}`);
  console.log(
    `servers on CPU ${serverCpu}, load on CPU ${loadCpu}; reference tools: ${ref ? refDir : 'none (C rows skipped)'}`,
  );
}

function report(row) {
  results.push(row);
  if (json) return console.log(JSON.stringify(row));
  if (row.workload !== lastWorkload) {
    console.log(`\n${row.workload}`);
    lastWorkload = row.workload;
  }
  const figure =
    row.kib_per_connection !== undefined
      ? `${row.kib_per_connection.toFixed(2)} KiB/conn`
      : row.connections_per_second !== undefined
        ? `${row.connections_per_second.toLocaleString('en-US')} conn/s`
        : `${row.msgs_per_second.toLocaleString('en-US')} msgs/s`;
  const range = row.ratio_range ? ` (${row.ratio_range[0]}-${row.ratio_range[1]})` : '';
  const cpu = row.server_cpu_us_per_msg
    ? `  server CPU ${row.server_cpu_us_per_msg.toFixed(2)} us/msg`
    : row.client_cpu_us_per_msg
      ? `  client CPU ${row.client_cpu_us_per_msg.toFixed(2)} us/msg`
      : '';
  const faults = row.faults ? `  FAULTS ${row.faults}` : '';
  console.log(
    `  ${row.server.padEnd(28)} ${figure.padStart(18)}   ${String(row.ratio).padStart(6)} x ${row.ratio_to}${range}${cpu}${faults}`,
  );
}

function median(values) {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted.length ? sorted[Math.floor((sorted.length - 1) / 2)] : 0;
}

function round3(v) {
  return Number.isFinite(v) ? Math.round(v * 1000) / 1000 : 0;
}

function sleep(ms) {
  return new Promise((ok) => setTimeout(ok, ms));
}

function settle(ms = 500) {
  return sleep(ms);
}

function fail(message) {
  console.error(`bench: ${message}`);
  process.exit(1);
}
