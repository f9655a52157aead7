/**
 * The socket option flags, for any command to adopt: `withClientSocketOptions` (where a client
 * connects from, keepalive, Nagle, UDP TTL, the connect timeout, -4/-6) and
 * `withServerSocketOptions` (backlog, keepalive, Nagle, IPv6-only) add them, and
 * `clientSocketOptionsOf` / `serverSocketOptionsOf` turn them into the library's options. A flag
 * given with a URL it does not apply to is a usage error, never silently ignored.
 * docs/socket-options.md explains each, and why some options people expect have no flag.
 */
import { isIP } from 'node:net';
import { type Command, Option } from 'commander';
import {
  formatDuration,
  MAX_BACKLOG,
  MAX_KEEPALIVE_IDLE,
  parseCount,
  parseDuration,
  type SocketAddress,
  type TcpClientOptions,
  type TcpServerOptions,
  UsageError,
} from '../../index.js';
import { durationOption } from './common.js';

/** DEFAULT_KEEPALIVE_IDLE is the idle time of a bare `--keepalive`, in ms (curl's default, 60 s). */
export const DEFAULT_KEEPALIVE_IDLE = 60_000;

/** ClientSocketFlags are the parsed client socket flags. */
export interface ClientSocketFlags {
  source?: string | undefined;
  sourcePort?: number | undefined;
  keepalive?: number | undefined;
  nodelay?: boolean | undefined;
  ttl?: number | undefined;
  connectTimeout?: number | undefined;
  ipv4?: boolean | undefined;
  ipv6?: boolean | undefined;
}

/** ServerSocketFlags are the parsed server socket flags. */
export interface ServerSocketFlags {
  backlog?: number;
  keepalive?: number;
  nodelay?: boolean;
  ipv6Only?: boolean;
}

/** ClientFlagSet says which client flags a command takes; every one defaults to true. */
export interface ClientFlagSet {
  /** netcat's `-s ADDR` and `-p PORT`, for commands where the letters mean nothing else. */
  readonly netcatLetters?: boolean;
  /** `--source-port`: not for commands that open many connections to one place at once. */
  readonly sourcePort?: boolean;
  /** `--ttl`: for commands that send UDP. */
  readonly ttl?: boolean;
  /** `--connect-timeout`: for commands whose `--timeout` bounds more than connecting. */
  readonly connectTimeout?: boolean;
  /** `-4`/`-6`: for commands that resolve names. */
  readonly family?: boolean;
  /**
   * The flags' prefix, for a command that is also a server (forward): `target-` spells them
   * `--target-source`, `--target-keepalive`, ... and says in their help that they apply to the
   * connections to the targets. `-4`/`-6` keep their spelling. Default: none.
   */
  readonly prefix?: 'target-';
}

/**
 * withClientSocketOptions adds the client socket flags `which` names to `command`: `--source`,
 * `--source-port`, `--keepalive [idle]`, `--[no-]nodelay`, `--ttl`, `--connect-timeout`, `-4`, `-6`.
 */
export function withClientSocketOptions(command: Command, which: ClientFlagSet = {}): Command {
  const prefix = which.prefix ?? '';
  const letters = (which.netcatLetters ?? true) && prefix === '';
  const to = prefix === '' ? '' : ' (connections to the targets)';
  command.addOption(
    new Option(
      `${letters ? '-s, ' : ''}--${prefix}source <address>`,
      `tcp/tls/udp: connect from this local IP address${to || ' (nc -s)'}`,
    ).argParser((value) => sourceAddress(value, `--${prefix}source`)),
  );
  if (which.sourcePort ?? true)
    command.addOption(
      new Option(
        `${letters ? '-p, ' : ''}--${prefix}source-port <port>`,
        `tcp/tls/udp: connect from this local port${to || ' (nc -p)'}`,
      ).argParser((value) => parseCount(value, `--${prefix}source-port`, 1, 65535)),
    );
  addKeepAlive(
    command,
    `tcp/tls: probe an idle connection after IDLE, to find a dead peer or keep a NAT mapping open${to}`,
    prefix,
  );
  addNoDelay(command, prefix, to);
  if (which.ttl ?? true)
    command.addOption(
      new Option(`--${prefix}ttl <hops>`, `udp: hops each datagram may take (IP_TTL)${to}`)
        .default(undefined, "64, the kernel's")
        .argParser((value) => parseCount(value, `--${prefix}ttl`, 1, 255)),
    );
  if (which.connectTimeout ?? true)
    command.addOption(
      new Option(
        '--connect-timeout <duration>',
        'tcp/tls/unix: bound on connecting alone (resolving, connecting, TLS handshake)',
      ).argParser(durationOption('--connect-timeout', 1)),
    );
  if (which.family ?? true)
    command
      .option('-4, --ipv4', `tcp/tls/udp: connect to IPv4 addresses only${to}`)
      .option('-6, --ipv6', `tcp/tls/udp: connect to IPv6 addresses only${to}`);
  return command;
}

/** TargetSocketFlags are the client socket flags as `withClientSocketOptions(..., { prefix: 'target-' })` parses them. */
export interface TargetSocketFlags {
  targetSource?: string;
  targetSourcePort?: number;
  targetKeepalive?: number;
  targetNodelay?: boolean;
  targetTtl?: number;
  ipv4?: boolean;
  ipv6?: boolean;
}

/** targetSocketFlagsOf reads the `--target-*` socket flags as the client flags they are. */
export function targetSocketFlagsOf(flags: TargetSocketFlags): ClientSocketFlags {
  return {
    source: flags.targetSource,
    sourcePort: flags.targetSourcePort,
    keepalive: flags.targetKeepalive,
    nodelay: flags.targetNodelay,
    ttl: flags.targetTtl,
    ipv4: flags.ipv4,
    ipv6: flags.ipv6,
  };
}

/** SERVER_SOCKET_FLAGS are the flags withServerSocketOptions adds, as commander names them. */
export const SERVER_SOCKET_FLAGS: readonly string[] = [
  '--backlog',
  '--keepalive',
  '--nodelay',
  '--no-nodelay',
  '--ipv6-only',
];

/** ClientSocketSettings are the client flags as the library takes them. */
export interface ClientSocketSettings {
  /** For DialOptions.tcp (tcp:// and tls://). */
  readonly tcp?: TcpClientOptions | undefined;
  /** For DialOptions.family and DialPacketOptions.family. */
  readonly family?: 4 | 6 | undefined;
  /** For DialOptions.timeout. */
  readonly connectTimeout?: number | undefined;
  /** For DialPacketOptions (udp://): TTL and local end. */
  readonly packet: { ttl?: number; localAddress?: string; localPort?: number };
}

/**
 * clientSocketOptionsOf turns the client flags into library options for `address` (a flag for
 * another scheme, `--ttl` on tcp://, is refused before any command runs: scheme-flags.ts). Throws
 * UsageError when `-4` and `-6` are both given, or the source is of the other family.
 */
export function clientSocketOptionsOf(
  op: string,
  address: SocketAddress,
  flags: ClientSocketFlags,
): ClientSocketSettings {
  if (flags.ipv4 && flags.ipv6) throw new UsageError(op, '-4 and -6 exclude each other');
  const family = flags.ipv4 ? 4 : flags.ipv6 ? 6 : undefined;
  if (family && flags.source && isIP(flags.source) !== family)
    throw new UsageError(op, `--source ${flags.source} is not an IPv${family} address (-${family})`);
  const host = address.scheme === 'unix' ? '' : address.host;
  if (flags.source && isIP(host) !== 0 && isIP(flags.source) !== isIP(host))
    throw new UsageError(
      op,
      `--source ${flags.source} is IPv${isIP(flags.source)}, and ${host} is IPv${isIP(host)}: give a source of the same family`,
    );
  const local = {
    ...(flags.source === undefined ? {} : { localAddress: flags.source }),
    ...(flags.sourcePort === undefined ? {} : { localPort: flags.sourcePort }),
  };
  const tcp: TcpClientOptions = {
    ...local,
    ...(flags.keepalive === undefined ? {} : { keepAlive: flags.keepalive }),
    ...(flags.nodelay === undefined ? {} : { noDelay: flags.nodelay }),
  };
  return {
    tcp: Object.keys(tcp).length > 0 ? tcp : undefined,
    family,
    connectTimeout: flags.connectTimeout,
    packet: { ...local, ...(flags.ttl === undefined ? {} : { ttl: flags.ttl }) },
  };
}

/**
 * withServerSocketOptions adds `--backlog`, `--keepalive [idle]`, `--[no-]nodelay` and
 * `--ipv6-only` to a server command.
 */
export function withServerSocketOptions(command: Command): Command {
  command.addOption(
    new Option(
      '--backlog <n>',
      'tcp/tls/unix: connections the kernel queues before they are accepted (capped by net.core.somaxconn)',
    )
      .default(undefined, '511')
      .argParser((value) => parseCount(value, '--backlog', 1, MAX_BACKLOG)),
  );
  addKeepAlive(command, 'tcp/tls: probe each idle client after IDLE, to drop dead peers');
  addNoDelay(command, '', '');
  return command.option('--ipv6-only', 'tcp/tls/udp: keep [::] to IPv6 (IPV6_V6ONLY) instead of dual-stack');
}

/** ServerSocketSettings are the server flags as ListenOptions (and PacketOptions, for ipv6Only) take them. */
export interface ServerSocketSettings {
  readonly backlog?: number | undefined;
  readonly ipv6Only?: boolean | undefined;
  readonly tcp?: TcpServerOptions | undefined;
}

/**
 * serverSocketOptionsOf turns the server flags into library options. Each applies to the
 * listeners of its schemes; one that applies to none of a command's addresses is refused before
 * the command runs (scheme-flags.ts).
 */
export function serverSocketOptionsOf(flags: ServerSocketFlags): ServerSocketSettings {
  const tcp: TcpServerOptions = {
    ...(flags.keepalive === undefined ? {} : { keepAlive: flags.keepalive }),
    ...(flags.nodelay === undefined ? {} : { noDelay: flags.nodelay }),
  };
  return {
    backlog: flags.backlog,
    ipv6Only: flags.ipv6Only,
    tcp: Object.keys(tcp).length > 0 ? tcp : undefined,
  };
}

function addKeepAlive(command: Command, description: string, prefix = ''): void {
  command.addOption(
    new Option(`--${prefix}keepalive [idle]`, description)
      .preset(formatDuration(DEFAULT_KEEPALIVE_IDLE))
      .argParser((value) => keepAliveIdle(value, `--${prefix}keepalive`)),
  );
}

function addNoDelay(command: Command, prefix: string, to: string): void {
  command
    .option(
      `--${prefix}nodelay`,
      `tcp/tls: send each write at once, Nagle off (TCP_NODELAY; on by default)${to}`,
    )
    .option(
      `--no-${prefix}nodelay`,
      `tcp/tls: Nagle on, as Node has it: small writes wait to be sent together${to}`,
    );
}

/**
 * keepAliveIdle parses `--keepalive`'s idle time: whole seconds from 1s to 32767s (TCP_KEEPIDLE).
 * A URL there means the user put `--keepalive` before the URL argument, which it then swallowed.
 */
function keepAliveIdle(value: string, flag: string): number {
  if (value.includes(':'))
    throw new UsageError(
      flag,
      `"${value}" is not an idle time: put the URL before ${flag}, or write ${flag}=60s`,
    );
  const ms = parseDuration(value, flag, 1000, MAX_KEEPALIVE_IDLE);
  if (ms % 1000 !== 0)
    throw new UsageError(flag, `${value}: the kernel counts keepalive idle time in whole seconds`);
  return ms;
}

/**
 * sourceAddress parses `--source` (or `flag`, as the command spells it: forward's
 * `--target-source`): an IP address of this host, not a name (bind(2) takes an address).
 */
export function sourceAddress(value: string, flag = '--source'): string {
  if (isIP(value) === 0)
    throw new UsageError(flag, `"${value}" is not an IP address (give one of this host's addresses)`);
  return value;
}
