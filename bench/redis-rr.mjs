// `node bench/redis-rr.mjs`: sockkit bench's request/response mode against redis-benchmark, side by
// side, on the same redis-server. The server is pinned to CPU 0 and each load generator to CPU 1
// (docs/performance.md), both load generators single-threaded; for each configuration the two
// alternate for ROUNDS rounds, and the medians and their ratio are printed.
//
//   node bench/redis-rr.mjs                           # -c 50 with -P/--depth 1 and 16, 5 rounds of 3 s
//   BENCH_ROUNDS=3 BENCH_SECONDS=2 node bench/redis-rr.mjs 50x1 50x16 1x1
//   node bench/redis-rr.mjs 50x16 50x16b              # `b`: sockkit with --batch (as -P sends), else refill
//
// redis-benchmark -t ping_inline sends `PING\r\n` and reads `+PONG\r\n`; sockkit bench sends the
// same with --request 'PING\r\n' --expect '+PONG\r\n', checking every reply.
import { execFileSync, spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { availableParallelism, tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const cli = join(root, 'dist/src/cli/main.js');
const rounds = Number(process.env.BENCH_ROUNDS ?? 5);
const seconds = Number(process.env.BENCH_SECONDS ?? 3);
const configs = (process.argv.slice(2).length > 0 ? process.argv.slice(2) : ['50x1', '50x16']).map((c) => {
  const [connections, depth] = c.replace(/b$/, '').split('x').map(Number);
  return { connections, depth, batch: c.endsWith('b') };
});
const twoCpus = availableParallelism() > 1;
const pin = (cpu, command) => (twoCpus ? ['taskset', '-c', String(cpu), ...command] : command);

const port = await new Promise((done) => {
  const probe = createServer().listen(0, '127.0.0.1', () => {
    const { port } = probe.address();
    probe.close(() => done(port));
  });
});
const dir = mkdtempSync(join(tmpdir(), 'sockkit-redis-rr-'));
const [serverCommand, ...serverArgs] = pin(0, [
  'redis-server',
  '--port',
  String(port),
  '--bind',
  '127.0.0.1',
  '--save',
  '',
  '--appendonly',
  'no',
  '--dir',
  dir,
]);
const server = spawn(serverCommand, serverArgs, { stdio: ['ignore', 'pipe', 'inherit'] });
let log = '';
for await (const chunk of server.stdout) {
  log += chunk;
  if (/ready to accept connections/i.test(log)) break;
}
server.stdout.resume();

/**
 * serverCpu is redis-server's CPU time so far (user + system, /proc/PID/stat), in seconds: taken
 * around each run, it says what one request cost the server under each load generator.
 */
function serverCpu() {
  const fields = readFileSync(`/proc/${server.pid}/stat`, 'utf8').split(') ')[1].split(' ');
  return (Number(fields[11]) + Number(fields[12])) / 100; // utime, stime in clock ticks (USER_HZ 100)
}

/**
 * timed runs `command` under bash and returns its stdout and the CPU seconds (user + system) it
 * used, from bash's `times` (the children's line): the same measure for both load generators.
 */
function timed(command) {
  const out = execFileSync('bash', ['-c', '"$@"; times', 'bash', ...command], { encoding: 'utf8' });
  const lines = out.trimEnd().split('\n');
  const children = lines.at(-1).match(/(\d+)m([\d.]+)s (\d+)m([\d.]+)s/);
  const cpu = Number(children[1]) * 60 + Number(children[2]) + Number(children[3]) * 60 + Number(children[4]);
  return { stdout: lines.slice(0, -2).join('\n'), cpu };
}

const median = (values) => {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)];
};

/** redisBenchmark runs about `seconds` of redis-benchmark (the count sized from a first estimate) and returns requests/s and CPU µs per request. */
function redisBenchmark({ connections, depth }, estimate) {
  const requests = Math.max(10_000, Math.round(estimate * seconds));
  const { stdout, cpu } = timed(
    pin(1, [
      'redis-benchmark',
      '-p',
      String(port),
      '-t',
      'ping_inline',
      '-c',
      String(connections),
      '-P',
      String(depth),
      '-n',
      String(requests),
      '--csv',
    ]),
  );
  const line = stdout.split('\n').find((l) => l.startsWith('"PING_INLINE"'));
  return { rate: Number(JSON.parse(`[${line}]`)[1]), cpuUs: (cpu * 1e6) / requests, requests };
}

/** sockkitBench runs `seconds` of sockkit bench and returns replies/s and CPU µs per reply (its process, start-up included). */
function sockkitBench({ connections, depth, batch }) {
  const { stdout, cpu } = timed(
    pin(1, [
      'node',
      cli,
      'bench',
      `tcp://127.0.0.1:${port}`,
      '--request',
      'PING\\r\\n',
      '--expect',
      '+PONG\\r\\n',
      '-c',
      String(connections),
      '-d',
      String(depth),
      ...(batch ? ['--batch'] : []),
      '-t',
      `${seconds}s`,
      '--json',
    ]),
  );
  const summary = JSON.parse(stdout.trim().split('\n').at(-1));
  if (summary.mismatches !== 0 || summary.errors !== 0) throw new Error(`sockkit bench faults: ${stdout}`);
  const replies = summary.messages + summary.late;
  // Also its CPU during the run alone (`cpu_s`), without Node's start-up and the JIT's warming.
  return {
    rate: summary.messages_per_second,
    cpuUs: (cpu * 1e6) / replies,
    runCpuUs: (summary.cpu_s * 1e6) / summary.messages,
    requests: replies,
  };
}

try {
  console.log(
    `redis-server ${port}${twoCpus ? ' on CPU 0, load on CPU 1' : ' (one CPU: not pinned)'}; ${rounds} rounds of ${seconds} s`,
  );
  for (const config of configs) {
    const theirs = [];
    const ours = [];
    const theirCpu = [];
    const ourCpu = [];
    const ourRunCpu = [];
    const theirServerCpu = [];
    const ourServerCpu = [];
    /** withServerCpu runs `run` and records redis-server's CPU µs per request during it into `into`. */
    const withServerCpu = (run, into) => {
      const before = serverCpu();
      const result = run();
      into.push(((serverCpu() - before) * 1e6) / result.requests);
      return result;
    };
    let estimate = 50_000;
    for (let round = 0; round < rounds; round += 1) {
      const runRedis = () => {
        const { rate, cpuUs } = withServerCpu(() => redisBenchmark(config, estimate), theirServerCpu);
        theirs.push(rate);
        theirCpu.push(cpuUs);
        estimate = rate;
      };
      const runOurs = () => {
        const { rate, cpuUs, runCpuUs } = withServerCpu(() => sockkitBench(config), ourServerCpu);
        ours.push(rate);
        ourCpu.push(cpuUs);
        ourRunCpu.push(runCpuUs);
      };
      // Alternate which goes first, so a drift in the machine's load falls on both.
      if (round % 2 === 0) {
        runRedis();
        runOurs();
      } else {
        runOurs();
        runRedis();
      }
    }
    const ratios = ours.map((rate, i) => rate / theirs[i]);
    const line = {
      connections: config.connections,
      depth: config.depth,
      batch: config.batch,
      redis_benchmark: Math.round(median(theirs)),
      sockkit_bench: Math.round(median(ours)),
      ratio: Number((median(ours) / median(theirs)).toFixed(3)),
      ratio_range: [Math.min(...ratios), Math.max(...ratios)].map((r) => Number(r.toFixed(3))),
      cpu_us_per_request: {
        redis_benchmark: Number(median(theirCpu).toFixed(2)),
        sockkit_bench: Number(median(ourCpu).toFixed(2)),
        sockkit_bench_run_only: Number(median(ourRunCpu).toFixed(2)),
      },
      server_cpu_us_per_request: {
        under_redis_benchmark: Number(median(theirServerCpu).toFixed(2)),
        under_sockkit_bench: Number(median(ourServerCpu).toFixed(2)),
      },
      rounds: { redis_benchmark: theirs.map(Math.round), sockkit_bench: ours },
    };
    console.log(JSON.stringify(line));
  }
} finally {
  server.kill();
  await once(server, 'exit');
  rmSync(dir, { recursive: true, force: true });
}
