/**
 * Every example in README.md and docs/ is safe to paste, and the runnable ones run.
 *
 * Safe: an example sends traffic only to loopback, to the documentation ranges (RFC 5737, RFC 3849,
 * RFC 5771's MCAST-TEST-NET) or to a placeholder the reader must fill in. The scan covers every
 * fenced code block and inline code span of README.md and docs/*.md, and the whole `--help` text
 * of every command and subcommand, and names the file (or command), the line and the address.
 *
 * Runnable: a fenced block whose info string has the word `runnable` (```sh runnable, which GitHub
 * still renders as sh) runs as one `bash` script from the repository root, with `set -euo
 * pipefail`, `npx sockkit` as written and `sockkit` on the PATH (what `npm link` gives, see
 * docs/README.md). It runs in network and PID namespaces of its own: only `lo` is up, so a fixed
 * port never collides with another run and no packet can leave the machine, and whatever it
 * started in the background ends with it. A deadline bounds it. A `# prints: TEXT` comment on a line of the
 * block is checked against the output.
 */
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync } from 'node:fs';
import { BlockList, isIPv4, isIPv6 } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { CLI, type CliResult, runCli } from '../helpers.js';

const root = fileURLToPath(new URL('../../../', import.meta.url));

/** The ranges an example may send to; everything else in an example is a finding. */
const SAFE = new BlockList();
SAFE.addSubnet('127.0.0.0', 8, 'ipv4'); // loopback
SAFE.addAddress('0.0.0.0', 'ipv4'); // a server's wildcard bind
SAFE.addSubnet('192.0.2.0', 24, 'ipv4'); // TEST-NET-1 (RFC 5737)
SAFE.addSubnet('198.51.100.0', 24, 'ipv4'); // TEST-NET-2
SAFE.addSubnet('203.0.113.0', 24, 'ipv4'); // TEST-NET-3
SAFE.addSubnet('233.252.0.0', 24, 'ipv4'); // MCAST-TEST-NET (RFC 5771)
SAFE.addAddress('::1', 'ipv6');
SAFE.addAddress('::', 'ipv6');
SAFE.addSubnet('2001:db8::', 32, 'ipv6'); // RFC 3849
// IPv6 multicast groups whose group ID is in ::db8:0/112, for every flag and scope: the
// documentation prefix's digits, as the IPv4 MCAST-TEST-NET has no IPv6 twin.
for (let flags = 0; flags < 16; flags += 1) {
  for (let scope = 0; scope < 16; scope += 1) {
    SAFE.addSubnet(`ff${flags.toString(16)}${scope.toString(16)}::db8:0`, 112, 'ipv6');
  }
}
/**
 * Ranges that name a whole address class rather than a destination ("GROUP must be in
 * 224.0.0.0/4", a route for all of multicast): stating a rule sends nothing anywhere.
 */
const WHOLE_CLASSES = new Set(['224.0.0.0/4', 'ff00::/8']);

/** Host names an example may use: loopback names and the reserved ones of RFC 2606 and RFC 6761. */
const SAFE_NAME = /^(localhost|.+\.(example|test|invalid|localhost)|(.+\.)?example\.(com|net|org))$/i;

/** Schemes whose URLs name a host to send to. */
const URL_WITH_HOST =
  /\b(?:tcp|udp|tls|wss?|https?|rediss?|socks5|socks4a):\/\/(?:[^@\s/'"`]*@)?([^\s/:'"`,)\]]+)/g;

/** Finding is one address an example should not name. */
interface Finding {
  readonly where: string;
  readonly line: number;
  readonly address: string;
  readonly text: string;
}

/** isSafeRange reports whether every address of `address/prefix` is in a safe range. */
function isSafeRange(address: string, prefix: number | undefined, family: 'ipv4' | 'ipv6'): boolean {
  if (prefix === undefined) return SAFE.check(address, family);
  if (WHOLE_CLASSES.has(`${address}/${prefix}`)) return true;
  const bits = family === 'ipv4' ? 32 : 128;
  if (prefix > bits) return false;
  // A subnet is safe when its first and last addresses are: every safe range is one block.
  const [first, last] = ends(address, prefix, family);
  return SAFE.check(first, family) && SAFE.check(last, family);
}

/** ends returns the first and last address of `address/prefix` (127.0.0.0/7 starts at 126.0.0.0). */
function ends(address: string, prefix: number, family: 'ipv4' | 'ipv6'): [string, string] {
  // An IPv4-mapped IPv6 range (::ffff:10.0.0.0/104) is judged by its first address alone.
  if (family === 'ipv6' && address.includes('.')) return [address, address];
  const bits = family === 'ipv4' ? 32n : 128n;
  const value =
    family === 'ipv4'
      ? address.split('.').reduce((sum, part) => sum * 256n + BigInt(part), 0n)
      : ipv6Value(address);
  const host = (1n << (bits - BigInt(prefix))) - 1n;
  const format = (n: bigint): string => {
    const [width, base, mask, join] = family === 'ipv4' ? [8n, 10, 255n, '.'] : [16n, 16, 0xffffn, ':'];
    const parts: string[] = [];
    for (let shift = bits - width; shift >= 0n; shift -= width)
      parts.push(((n >> shift) & mask).toString(base));
    return parts.join(join);
  };
  return [format(value & ~host), format(value | host)];
}

function ipv6Value(address: string): bigint {
  const [head = '', tail] = address.split('::');
  const words = (part: string): string[] => (part === '' ? [] : part.split(':'));
  const left = words(head);
  const right = tail === undefined ? [] : words(tail);
  const groups = [...left, ...Array<string>(8 - left.length - right.length).fill('0'), ...right];
  return groups.reduce((sum, group) => sum * 65536n + BigInt(`0x${group}`), 0n);
}

/**
 * unsafeAddresses returns each IP literal (with its /prefix, if any) and each URL host name in
 * `text` that an example may not send to.
 */
function unsafeAddresses(text: string): string[] {
  const found: string[] = [];
  // IPv6 first, then blank it out, so that ::ffff:10.0.0.1 is not read again as IPv4.
  const withoutIpv6 = text.replace(
    /(?<![\w:.%])[0-9A-Fa-f.]*:[0-9A-Fa-f:.]*:[0-9A-Fa-f:.]*(%[\w-]+)?(\/\d{1,3}(?!\d))?/g,
    (match: string) => {
      const [literal = '', prefix] = match.replace(/%[\w-]+/, '').split('/');
      const core = literal.replace(/[.:]+$/, (end) => (end.startsWith('::') ? '::' : ''));
      // An unbracketed host:port (`tcp://::1:7`, the error example) reads both ways: either
      // reading being safe is enough, as no tool accepts it as written.
      const readings = [core, core.replace(/:\d+$/, '')].filter((r) => r.includes(':') && isIPv6(r));
      if (readings.length === 0) return match;
      const bits = prefix === undefined ? undefined : Number(prefix);
      if (!readings.some((r) => isSafeRange(r, bits, 'ipv6'))) {
        found.push(prefix === undefined ? (readings[0] as string) : `${readings[0]}/${prefix}`);
      }
      return ' '.repeat(match.length);
    },
  );
  for (const match of withoutIpv6.matchAll(/(?<![\w.])(\d{1,3}(?:\.\d{1,3}){3})(?:\/(\d{1,2}))?(?![\w.])/g)) {
    const [whole, address = '', prefix] = match;
    if (!isIPv4(address)) continue;
    if (!isSafeRange(address, prefix === undefined ? undefined : Number(prefix), 'ipv4')) found.push(whole);
  }
  for (const match of text.matchAll(URL_WITH_HOST)) {
    const host = match[1] ?? '';
    // A placeholder (HOST, host, <server>, $HOST, ...) has no dot or does not start like a name.
    const placeholder = !host.includes('.') || !/^[A-Za-z0-9]/.test(host);
    if (!isIPv4(host) && !placeholder && !SAFE_NAME.test(host)) found.push(host);
  }
  return found;
}

/** CodeBlock is a fenced code block or an inline code span of a Markdown file. */
interface CodeBlock {
  readonly line: number;
  readonly text: string;
  /** The fence's info string (`sh runnable`); undefined for an inline span. */
  readonly info?: string;
}

/** codeIn returns the fenced blocks and inline code spans of `markdown`, with their first line. */
function codeIn(markdown: string): CodeBlock[] {
  const blocks: CodeBlock[] = [];
  let fence: { marker: string; info: string; line: number; body: string[] } | undefined;
  // Inline spans may run over a line break, so they are matched a paragraph at a time.
  let paragraph: { line: number; lines: string[] } | undefined;
  const endParagraph = (): void => {
    if (!paragraph) return;
    const text = paragraph.lines.join('\n');
    for (const span of text.matchAll(/(`+)([^`][\s\S]*?)\1(?!`)/g)) {
      const line = paragraph.line + (text.slice(0, span.index).match(/\n/g)?.length ?? 0);
      blocks.push({ line, text: span[2] as string });
    }
    paragraph = undefined;
  };
  markdown.split('\n').forEach((line, index) => {
    const opening = /^ {0,3}(`{3,}|~{3,})(.*)$/.exec(line);
    if (fence) {
      if (opening?.[1]?.startsWith(fence.marker) && opening[2]?.trim() === '') {
        blocks.push({ line: fence.line + 1, text: fence.body.join('\n'), info: fence.info });
        fence = undefined;
      } else fence.body.push(line);
    } else if (opening) {
      endParagraph();
      fence = { marker: opening[1] as string, info: (opening[2] ?? '').trim(), line: index + 1, body: [] };
    } else if (line.trim() === '') endParagraph();
    else if (paragraph) paragraph.lines.push(line);
    else paragraph = { line: index + 1, lines: [line] };
  });
  endParagraph();
  return blocks;
}

/** findingsIn scans `text` line by line; `firstLine` is the number of its first line in `where`. */
function findingsIn(where: string, firstLine: number, text: string): Finding[] {
  return text.split('\n').flatMap((line, offset) =>
    unsafeAddresses(line).map((address) => ({
      where,
      line: firstLine + offset,
      address,
      text: line.trim(),
    })),
  );
}

function report(findings: readonly Finding[]): string {
  return findings.map((f) => `${f.where}:${f.line}: ${f.address} in: ${f.text}`).join('\n');
}

const markdownFiles = [
  'README.md',
  ...readdirSync(join(root, 'docs'))
    .filter((name) => name.endsWith('.md'))
    .sort()
    .map((name) => `docs/${name}`),
];

// The help texts are read here, before any test is declared: npm test runs with
// --test-force-exit, which ends a file's process once the tests declared so far are done, so a
// test declared after a top-level await that follows other tests would never run.
const topHelp = await runCli(['--help']);
const commands = commandsIn(topHelp.stdout.toString());
// Read every command's help before the tests, two processes at a time (the machine's cores).
const commandHelps: CliResult[] = [];
for (let i = 0; i < commands.length; i += 2) {
  commandHelps.push(...(await Promise.all(commands.slice(i, i + 2).map((c) => runCli([c, '--help'])))));
}

describe('the address check', () => {
  test('finds private, public and unique-local addresses, with their prefix', () => {
    assert.deepEqual(
      unsafeAddresses('ping 10.0.0.1; --deny 172.16.0.0/12 --allow fd00::/8 udp://[ff15::1234]:5000 8.8.8.8'),
      ['fd00::/8', 'ff15::1234', '10.0.0.1', '172.16.0.0/12', '8.8.8.8'],
    );
    assert.deepEqual(
      unsafeAddresses('udp://10.0.0.255:7 ::ffff:192.168.1.1 ::ffff:10.0.0.0/104 tcp://github.com:22'),
      ['::ffff:192.168.1.1', '::ffff:10.0.0.0/104', '10.0.0.255', 'github.com'],
    );
  });

  test('lets loopback, wildcards, documentation ranges and placeholders through', () => {
    const safe =
      'tcp://127.0.0.1:65432 tcp://[::1]:7 tcp://[::]:7 udp://0.0.0.0:5000 ping 192.0.2.1 ' +
      '--allow 198.51.100.0/24 --deny 203.0.113.7 2001:db8::/32 --join 233.252.0.1 [ff15::db8:1] ' +
      'tls://chat.example:7443 tcp://HOST:PORT redis://host:port udp://... tcp://localhost:7 ::%eth0 --allow 127.0.0.0/8 224.0.0.0/4';
    assert.deepEqual(unsafeAddresses(safe), []);
  });

  test('reads neither times, fingerprints, versions nor MAC addresses as addresses', () => {
    assert.deepEqual(unsafeAddresses('19:07:15 3A:91:...:7C TLSv1.3 1.8.1 00:00:00:00:00:00'), []);
  });

  test('a range is safe only when all of it is: 127.0.0.0/7 reaches past loopback', () => {
    assert.deepEqual(unsafeAddresses('--allow 127.0.0.0/7 --allow 2001:db8::/31'), [
      '2001:db8::/31',
      '127.0.0.0/7',
    ]);
  });
});

describe('every example in README.md and docs/ is safe to paste', () => {
  for (const file of markdownFiles) {
    test(`${file} names only loopback, documentation and placeholder addresses`, () => {
      const blocks = codeIn(readFileSync(join(root, file), 'utf8'));
      const findings = blocks.flatMap((block) => findingsIn(file, block.line, block.text));
      assert.equal(report(findings), '');
    });
  }
});

/** commandsIn returns the command names of a `--help` text's "Commands:" section, without `help`. */
function commandsIn(help: string): string[] {
  const section = /^Commands:\n((?: {2}.*\n?)*)/m.exec(help)?.[1] ?? '';
  return [...section.matchAll(/^ {2}([a-z][\w-]*)/gm)].map((m) => m[1] as string).filter((n) => n !== 'help');
}

describe('every --help text is safe to paste', () => {
  test('sockkit --help lists the commands and names only safe addresses', () => {
    assert.equal(topHelp.code, 0, topHelp.stderr);
    assert.ok(commands.includes('demo') && commands.includes('echo'), `commands: ${commands.join(', ')}`);
    assert.equal(report(findingsIn('sockkit --help', 1, topHelp.stdout.toString())), '');
  });

  commands.forEach((command, index) => {
    const help = commandHelps[index] as CliResult;
    test(`sockkit ${command} --help names only safe addresses`, () => {
      assert.equal(help.code, 0, help.stderr);
      assert.equal(report(findingsIn(`sockkit ${command} --help`, 1, help.stdout.toString())), '');
    });
    for (const sub of commandsIn(help.stdout.toString())) {
      test(`sockkit ${command} ${sub} --help names only safe addresses`, { timeout: 9000 }, async () => {
        const subhelp = await runCli([command, sub, '--help']);
        assert.equal(subhelp.code, 0, subhelp.stderr);
        assert.equal(
          report(findingsIn(`sockkit ${command} ${sub} --help`, 1, subhelp.stdout.toString())),
          '',
        );
      });
    }
  });
});

/**
 * canIsolate reports whether this machine lets the test make namespaces: a network namespace
 * (only `lo`, so fixed ports never collide and nothing leaves the machine) and a PID namespace
 * (when the block's shell, its init, exits, the kernel ends every process it left behind).
 */
function canIsolate(): boolean {
  const probe = spawnSync('unshare', [...ISOLATE, 'ip', 'link', 'set', 'lo', 'up'], { stdio: 'ignore' });
  return probe.status === 0;
}

const ISOLATE = ['--net', '--pid', '--fork', '--map-root-user'];
const isolated = canIsolate();
const bin = mkdtempSync(join(tmpdir(), 'sockkit-docs-'));
symlinkSync(CLI, join(bin, 'sockkit'));
after(() => rmSync(bin, { recursive: true, force: true }));

/** RUN_DEADLINE bounds one runnable block, from start to the last process gone. */
const RUN_DEADLINE = 8000;

/** runBlock runs one block as described at the top of this file. */
function runBlock(script: string): Promise<{ code: number | null; output: string; timedOut: boolean }> {
  const prelude = [
    isolated ? 'ip link set lo up' : '',
    'set -euo pipefail',
    // Without a PID namespace: end every process of the group, background servers included.
    isolated ? '' : `trap 'trap "" TERM; kill 0' EXIT`,
  ].join('\n');
  const argv = ['bash', '-c', `${prelude}\n${script}`];
  const [command, ...args] = isolated ? ['unshare', ...ISOLATE, ...argv] : argv;
  const child = spawn(command as string, args, {
    cwd: root,
    detached: true, // its own process group, which the deadline kills as a whole
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, PATH: `${bin}:${process.env.PATH}`, npm_config_update_notifier: 'false' },
  });
  let output = '';
  child.stdout.on('data', (chunk: Buffer) => {
    output += chunk.toString();
  });
  child.stderr.on('data', (chunk: Buffer) => {
    output += chunk.toString();
  });
  let timedOut = false;
  const deadline = setTimeout(() => {
    timedOut = true;
    process.kill(-(child.pid as number), 'SIGKILL');
  }, RUN_DEADLINE);
  return new Promise((resolve) => {
    child.on('close', (code) => {
      clearTimeout(deadline);
      resolve({ code, output, timedOut });
    });
  });
}

const runnable = markdownFiles.flatMap((file) =>
  codeIn(readFileSync(join(root, file), 'utf8'))
    .filter((block) => block.info?.split(/\s+/).includes('runnable'))
    .map((block) => ({ file, ...block })),
);

describe('every example marked runnable runs', () => {
  test('README.md marks its demo and several other examples runnable', () => {
    const inReadme = runnable.filter((block) => block.file === 'README.md');
    assert.ok(
      inReadme.some((block) => block.text.includes('npx sockkit demo')),
      'the demo is not runnable',
    );
    assert.ok(runnable.length >= 4, `only ${runnable.length} runnable examples`);
  });

  for (const block of runnable) {
    test(`${block.file}:${block.line} runs and prints what it says`, {
      timeout: RUN_DEADLINE + 1000,
    }, async () => {
      const result = await runBlock(block.text);
      const context = `${block.file}:${block.line}${isolated ? '' : ' (not isolated: unshare failed)'}\n${result.output}`;
      assert.equal(result.timedOut, false, `still running after ${RUN_DEADLINE}ms: ${context}`);
      assert.equal(result.code, 0, context);
      for (const [, expected] of block.text.matchAll(/# prints: (.+)$/gm)) {
        assert.ok(result.output.includes((expected as string).trim()), `no "${expected}" in: ${context}`);
      }
    });
  }
});
