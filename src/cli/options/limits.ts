/**
 * The limit flags every server takes: `withLimitOptions` adds them to a command, `guardFor` turns
 * the parsed flags into a ConnectionGuard (for ListenOptions.guard) that reports on stderr, and
 * `limitSummary` words the guard's counts for the shutdown summary.
 */
import { type Command, Option } from 'commander';
import {
  AccessRules,
  ConnectionGuard,
  DatagramGuard,
  type DatagramGuardStats,
  DEFAULT_REPLY_BUDGET,
  descriptorBudget,
  formatCount,
  type GuardStats,
  type LimitEvent,
  type LimitOption,
  parseCidr,
  parseCount,
  plural,
  ReplyBudget,
  UsageError,
} from '../../index.js';
import { durationOption, globalsOf } from './common.js';

/** LimitFlags are the parsed limit flags. */
export interface LimitFlags {
  maxConnections?: number;
  maxPerIp?: number;
  idleTimeout?: number;
  allow?: string[];
  deny?: string[];
}

/** MAX_LIMIT bounds `--max-connections` and `--max-per-ip`: far past any descriptor limit. */
export const MAX_LIMIT = 1_000_000;

/** How often, at most, one kind of limit is reported without --trace. */
const REPORT_EVERY = 10_000;

/**
 * withLimitOptions adds `--max-connections`, `--max-per-ip`, `--idle-timeout`, `--allow` and
 * `--deny` to a server command. `examples` replaces the two example lines, for a command whose
 * URLs are not tcp:// ones.
 */
export function withLimitOptions(
  command: Command,
  usage = command.name(),
  examples: readonly string[] = [
    `sockkit ${usage} tcp://0.0.0.0:9000 --max-connections 100 --max-per-ip 10 --idle-timeout 30s`,
    `sockkit ${usage} tcp://[::]:9000 --allow 127.0.0.0/8 --allow ::1/128 --deny 127.0.0.2`,
  ],
): Command {
  const count = (flag: string) => (value: string) => parseCount(value, flag, 1, MAX_LIMIT);
  const collect = (value: string, previous: string[] = []) => [...previous, value];
  return command
    .addOption(
      new Option('--max-connections <n>', 'at most N clients at once; the next is reset at once').argParser(
        count('--max-connections'),
      ),
    )
    .addOption(
      new Option(
        '--max-per-ip <n>',
        'at most N clients at once from one IP address (udp://: N datagrams per second)',
      ).argParser(count('--max-per-ip')),
    )
    .addOption(
      new Option(
        '--idle-timeout <duration>',
        'close a connection silent (both ways) for this long',
      ).argParser(durationOption('--idle-timeout', 1)),
    )
    .addOption(
      new Option('--allow <cidr>', 'accept only clients in CIDR (repeatable, IPv4/IPv6)').argParser(collect),
    )
    .addOption(
      new Option('--deny <cidr>', 'refuse clients in CIDR (repeatable; wins over --allow)').argParser(
        collect,
      ),
    )
    .addHelpText(
      'after',
      `
Limit examples:
${examples.map((line) => `  ${line}`).join('\n')}`,
    );
}

/** MAX_REPLY_BUDGET is the largest `--reply-budget`: replies per second to one source. */
export const MAX_REPLY_BUDGET = 1_000_000;

/** ReplyBudgetFlags is the parsed `--reply-budget`: replies per second, 0 for `off`, absent for the default. */
export interface ReplyBudgetFlags {
  replyBudget?: number;
}

/** withReplyBudgetOption adds `--reply-budget` to a command that runs UDP services (`serve`, `echo`). */
export function withReplyBudgetOption(command: Command): Command {
  return command.addOption(
    new Option(
      '--reply-budget <n|off>',
      'udp://: at most N replies per second to one source (IPv4 address, IPv6 /64); N given applies on loopback too; off lifts it',
    )
      .default(undefined, `${DEFAULT_REPLY_BUDGET}, off on loopback`)
      .argParser((value: string) =>
        value === 'off' ? 0 : parseCount(value, '--reply-budget', 1, MAX_REPLY_BUDGET),
      ),
  );
}

/**
 * replyBudgetFor builds the ReplyBudget for the parsed flag: by default DEFAULT_REPLY_BUDGET on
 * sockets not bound to loopback; `--reply-budget N` applies N on every socket, loopback too;
 * `--reply-budget off` returns undefined (no budget).
 */
export function replyBudgetFor(flags: ReplyBudgetFlags, command: Command): ReplyBudget | undefined {
  if (flags.replyBudget === 0) return undefined;
  return new ReplyBudget(
    { perSecond: flags.replyBudget ?? DEFAULT_REPLY_BUDGET, onLoopback: flags.replyBudget !== undefined },
    limitReporter(command),
  );
}

/**
 * guardFor builds the ConnectionGuard for the parsed flags. Every server gets one, so it never
 * runs itself out of descriptors. Each time a limit acts it prints one line on stderr (see
 * `limitReporter`). Throws UsageError for a malformed CIDR.
 */
export function guardFor(flags: LimitFlags, command: Command): ConnectionGuard {
  return new ConnectionGuard(
    {
      maxConnections: flags.maxConnections,
      maxPerIp: flags.maxPerIp,
      idleTimeout: flags.idleTimeout,
      access: accessRules(flags),
      descriptorBudget: descriptorBudget()?.connections,
    },
    limitReporter(command),
  );
}

/**
 * datagramGuardFor builds the DatagramGuard for UDP listeners: `--allow`/`--deny`, and
 * `--max-per-ip` as datagrams per second from one address. It returns undefined when neither is
 * given, so an unlimited UDP server does no extra work per datagram.
 */
export function datagramGuardFor(flags: LimitFlags, command: Command): DatagramGuard | undefined {
  const access = accessRules(flags);
  if (!access && flags.maxPerIp === undefined) return undefined;
  return new DatagramGuard({ access, maxPerIp: flags.maxPerIp }, limitReporter(command));
}

function accessRules(flags: LimitFlags): AccessRules | undefined {
  const allow = (flags.allow ?? []).map((c) => parseCidr(c, '--allow'));
  const deny = (flags.deny ?? []).map((c) => parseCidr(c, '--deny'));
  return allow.length + deny.length > 0 ? new AccessRules(allow, deny) : undefined;
}

/** refuseLimitFlags throws UsageError (exit 2) when any limit flag was given to `where`, which cannot enforce it. */
export function refuseLimitFlags(flags: LimitFlags, where: string): void {
  const given = (['maxConnections', 'maxPerIp', 'idleTimeout', 'allow', 'deny'] as const).find(
    (k) => flags[k] !== undefined,
  );
  if (given) {
    const flag = `--${given.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)}`;
    throw new UsageError(flag, `limits are not enforced by ${where}`);
  }
}

/**
 * The flag behind each library option a LimitEvent can name, as the hint at the end of a limit
 * line: `refused: 4 connections open (--max-connections 4)`. A duration's value is not repeated:
 * the library counts it in ms, the flag takes units.
 */
const flagHints: Record<LimitOption, (value: number | undefined) => string> = {
  maxConnections: (n) => `--max-connections ${n}`,
  maxPerIp: (n) => `--max-per-ip ${n}`,
  access: () => '--allow/--deny',
  idleTimeout: () => '--idle-timeout',
  clientCa: () => '--client-ca',
  replyBudget: (n) => `--reply-budget ${n}`,
};

/** limitLine words a LimitEvent as the CLI prints it: `limit max-per-ip 127.0.0.1:53122: refused: ... (--max-per-ip 1)`. */
export function limitLine(event: LimitEvent): string {
  // A service that failed on one client is not a limit, but is reported the same way, as rarely.
  const what = event.limit === 'service-error' ? 'service error' : `limit ${event.limit}`;
  const hint = event.option ? ` (${flagHints[event.option.name](event.option.value)})` : '';
  return `${what}${event.peer ? ` ${event.peer}` : ''}: ${event.detail}${hint}`;
}

/**
 * limitReporter prints each LimitEvent as one line on stderr (see `limitLine`): with --trace, one
 * per event; otherwise at most one per kind of limit every 10 s, with a count of the ones not
 * shown. A `service-error` (a service that threw on one client: the last line of defence) reads
 * `service error PEER: ...`.
 */
export function limitReporter(command: Command): (event: LimitEvent) => void {
  const trace = globalsOf(command).trace === true;
  const lastReported = new Map<string, number>();
  const suppressed = new Map<string, number>();
  return (event) => {
    const line = limitLine(event);
    if (trace) {
      process.stderr.write(`[server] ${line}\n`);
      return;
    }
    const now = Date.now();
    const last = lastReported.get(event.limit);
    if (last !== undefined && now - last < REPORT_EVERY) {
      suppressed.set(event.limit, (suppressed.get(event.limit) ?? 0) + 1);
      return;
    }
    const more = suppressed.get(event.limit) ?? 0;
    suppressed.delete(event.limit);
    lastReported.set(event.limit, now);
    process.stderr.write(
      `sockkit: ${line}${more > 0 ? ` (and ${more} more like it since the last report)` : ''}\n`,
    );
  };
}

/** datagramLimitSummary words a DatagramGuard's counts: `dropped 40 by limit (max-per-ip 40)`. */
export function datagramLimitSummary(stats: DatagramGuardStats): string {
  const parts = Object.entries(stats.dropped).filter(([, n]) => n > 0);
  const total = parts.reduce((sum, [, n]) => sum + n, 0);
  return `dropped ${plural(total, 'datagram')} by limit${total ? ` (${parts.map(([k, n]) => `${k} ${formatCount(n)}`).join(', ')})` : ''}`;
}

/**
 * limitSummary words a guard's counts for the shutdown line:
 * `refused 3 by limit (max-connections 2, access 1), timed out 1 (idle 1), 2 failed TLS handshakes`.
 */
export function limitSummary(stats: GuardStats): string {
  const refusedParts = Object.entries(stats.refused).filter(([, n]) => n > 0);
  const refused = refusedParts.reduce((sum, [, n]) => sum + n, 0);
  const timedOut = stats.timedOut.idle + stats.timedOut.handshake;
  const parts = [
    `refused ${formatCount(refused)} by limit${refused ? ` (${refusedParts.map(([k, n]) => `${k} ${formatCount(n)}`).join(', ')})` : ''}`,
    `timed out ${formatCount(timedOut)}${
      timedOut
        ? ` (${Object.entries(stats.timedOut)
            .filter(([, n]) => n > 0)
            .map(([k, n]) => `${k} ${formatCount(n)}`)
            .join(', ')})`
        : ''
    }`,
  ];
  if (stats.handshakeFailed) parts.push(`${stats.handshakeFailed} failed TLS handshakes`);
  if (stats.emfilePauses) parts.push(`${stats.emfilePauses} pauses for lack of file descriptors`);
  return parts.join(', ');
}
