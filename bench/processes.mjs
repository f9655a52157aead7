// The processes a benchmark runs: servers pinned to a CPU and waited for until they listen, load
// generators whose output is read, and a free port for each. Shared by bench/run.mjs and
// bench/proxy.mjs.
import { spawn, spawnSync } from 'node:child_process';
import { createServer } from 'node:net';

/**
 * startPinned runs `command` on `cpu` (taskset) and resolves once something listens on `port`
 * (`proto` tcp or udp, as `ss` sees it); it rejects if the command exits first or never listens.
 * The child gets `stderrText()`, what it printed on stderr so far.
 */
export async function startPinned(cpu, command, proto, port) {
  const child = spawn('taskset', ['-c', cpu, ...command], { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr.on('data', (d) => {
    stderr += d;
  });
  const flag = proto === 'udp' ? '-uln' : '-tln';
  for (let i = 0; i < 200; i += 1) {
    if (child.exitCode !== null) throw new Error(`${command.join(' ')} exited: ${stderr}`);
    const out = spawnSync('ss', ['-H', flag, `sport = :${port}`], { encoding: 'utf8' }).stdout;
    if (out.trim() !== '') return Object.assign(child, { stderrText: () => stderr.trim() });
    await new Promise((ok) => setTimeout(ok, 50));
  }
  child.kill('SIGKILL');
  throw new Error(`${command.join(' ')} did not listen on port ${port}: ${stderr}`);
}

/** stopProcess sends SIGTERM (SIGKILL 3 s later) and resolves once `child` has exited, at once if it already has. */
export function stopProcess(child) {
  return new Promise((ok) => {
    if (child.exitCode !== null || child.signalCode !== null) return ok();
    const timer = setTimeout(() => child.kill('SIGKILL'), 3000);
    child.on('exit', () => {
      clearTimeout(timer);
      ok();
    });
    child.kill('SIGTERM');
  });
}

/**
 * output runs `command` to its end and resolves with its stdout; it rejects when it exits other
 * than 0, unless `allowFailure` and it printed something (a bench that reports, then exits 1).
 */
export function output(command, argv, allowFailure = false) {
  return new Promise((ok, no) => {
    const child = spawn(command, argv, { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.on('data', (d) => {
      out += d;
    });
    child.stderr.on('data', (d) => {
      err += d;
    });
    child.on('exit', (code) => {
      if (code === 0 || (allowFailure && out.trim() !== '')) ok(out);
      else no(new Error(`${command} ${argv.join(' ')} exited ${code}: ${err}`));
    });
  });
}

/** freePort resolves with a loopback TCP port that was free a moment ago. */
export function freePort() {
  return new Promise((ok) => {
    const s = createServer().listen(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => ok(port));
    });
  });
}

/** benchFlags are the `sockkit bench` flags of a workload: connections, message size, depth, duration. */
export function benchFlags({ conns, size, depth }, seconds) {
  return ['-c', String(conns), '-s', String(size), '-d', String(depth), '-t', `${seconds}s`];
}
