// `node bench/proxy.mjs`: `sockkit proxy` against microsocks (a small C SOCKS5 server), with the
// same C echo server behind both and `sockkit bench --proxy socks5://...` as the load, on the two
// workloads of docs/performance.md: 64 B ping-pong x50 connections, and 64 KiB streaming (8
// connections, depth 4). The proxies and the echo server are pinned to CPU 0, the load to CPU 1;
// each workload alternates the two proxies for ROUNDS rounds and reports medians and the ratio.
//
//   npm run build && node bench/proxy.mjs                  # 3 rounds of 3 s
//   BENCH_ROUNDS=5 BENCH_SECONDS=5 node bench/proxy.mjs
//   node bench/proxy.mjs --json                            # one JSON object per workload
//
// Targets (issue 14): at least 0.7 of microsocks' rate on ping-pong, at least 1.0 on streaming.
// The C echo server comes from SOCKKIT_REF_DIR (default ../shared/bench next to the repository).
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, statSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { benchFlags, freePort, output, startPinned, stopProcess } from './processes.mjs';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const cli = join(root, 'dist/src/cli/main.js');
const json = process.argv.includes('--json');
const rounds = Number(process.env.BENCH_ROUNDS ?? 3);
const seconds = Number(process.env.BENCH_SECONDS ?? 3);
const serverCpu = '0';
const loadCpu = availableParallelism() > 1 ? '1' : '0';
const work = join(tmpdir(), 'sockkit-bench');
mkdirSync(work, { recursive: true });

if (!existsSync(cli)) fail('build first: npm run build');
for (const tool of ['microsocks', 'taskset', 'gcc', 'ss'])
  if (spawnSync('sh', ['-c', `command -v ${tool}`]).status !== 0) fail(`${tool} is needed`);

const echo = buildEcho();
const proxies = [
  ['sockkit proxy', (port) => ['node', cli, 'proxy', `socks5://127.0.0.1:${port}`, '--quiet']],
  ['microsocks', (port) => ['microsocks', '-i', '127.0.0.1', '-p', String(port)]],
];
const workloads = [
  { name: '64 B ping-pong x50', conns: 50, size: 64, depth: 1, target: 0.7 },
  { name: '64 KiB streaming x8, depth 4', conns: 8, size: 65536, depth: 4, target: 1.0 },
];
if (!json) {
  console.log(
    `proxy bench: ${rounds} rounds of ${seconds} s, proxies and echo on CPU ${serverCpu}, load on CPU ${loadCpu}`,
  );
}
let short = false;
for (const workload of workloads) {
  const runs = new Map(proxies.map(([name]) => [name, []]));
  for (let round = 0; round < rounds; round += 1) {
    for (const [name, command] of proxies) {
      // A fresh echo server each run: the C one exits when a client resets a connection.
      const echoPort = await freePort();
      const echoServer = await startPinned(serverCpu, [echo, 'tcp', String(echoPort)], 'tcp', echoPort);
      const port = await freePort();
      const proxy = await startPinned(serverCpu, command(port), 'tcp', port);
      const result = await load(port, echoPort, workload);
      await stopProcess(proxy);
      await stopProcess(echoServer);
      runs.get(name).push(result);
    }
  }
  const median = (name) => {
    const rates = runs
      .get(name)
      .map((r) => r.msgsPerSecond)
      .sort((a, b) => a - b);
    return rates[Math.floor(rates.length / 2)];
  };
  const faults = [...runs.values()].flat().reduce((sum, r) => sum + r.faults, 0);
  const ours = median('sockkit proxy');
  const theirs = median('microsocks');
  const ratio = theirs > 0 ? ours / theirs : 0;
  if (ratio < workload.target) short = true;
  const row = {
    workload: workload.name,
    sockkitMsgsPerSecond: ours,
    microsocksMsgsPerSecond: theirs,
    ratio: Math.round(ratio * 100) / 100,
    target: workload.target,
    faults,
  };
  if (json) console.log(JSON.stringify(row));
  else {
    console.log(
      `${workload.name.padEnd(30)} sockkit ${fmt(ours)} msg/s  microsocks ${fmt(theirs)} msg/s  ` +
        `ratio ${row.ratio.toFixed(2)} (target >= ${workload.target})${faults ? `  ${faults} FAULTS` : ''}`,
    );
  }
}
if (short && !json) console.log('below target on at least one workload');

function fmt(n) {
  return Math.round(n).toLocaleString('en-US').padStart(9);
}

async function load(proxyPort, echoPort, { conns, size, depth }) {
  const out = await output(
    'taskset',
    [
      '-c',
      loadCpu,
      'node',
      cli,
      'bench',
      `tcp://127.0.0.1:${echoPort}`,
      '--proxy',
      `socks5://127.0.0.1:${proxyPort}`,
      ...benchFlags({ conns, size, depth }, seconds),
      '--json',
    ],
    true,
  );
  const s = JSON.parse(out.trim().split('\n').pop());
  return { msgsPerSecond: s.messages_per_second, faults: s.mismatches + s.errors };
}

function buildEcho() {
  const refDir = resolve(root, process.env.SOCKKIT_REF_DIR ?? '../shared/bench');
  const source = join(refDir, 'echo_server.c');
  const binary = join(work, 'echo_server');
  if (!existsSync(source)) fail(`no ${source}: set SOCKKIT_REF_DIR to the folder of echo_server.c`);
  if (!existsSync(binary) || statSync(binary).mtimeMs < statSync(source).mtimeMs) {
    if (spawnSync('gcc', ['-O2', '-o', binary, source], { stdio: 'inherit' }).status !== 0)
      fail('gcc failed');
  }
  return binary;
}

function fail(message) {
  console.error(`bench/proxy: ${message}`);
  process.exit(1);
}
