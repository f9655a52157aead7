/**
 * The WebSocket flags: `withWebSocketClientOptions` / `withWebSocketServerOptions` add them to a
 * command, and `webSocketClientOptionsOf` / `webSocketServerOptionsOf` turn the parsed flags into
 * the library's WebSocketClientOptions (DialOptions.ws) / WebSocketServerOptions (ListenOptions.ws).
 * Given for an address that is not ws:// or wss://, they are a usage error, as TLS flags are.
 */
import { type Command, Option } from 'commander';
import {
  DEFAULT_MAX_MESSAGE_SIZE,
  formatSize,
  GiB,
  isWebSocket,
  type LimitEvent,
  normalizeOrigin,
  parseSize,
  type SocketAddress,
  UsageError,
  type WebSocketClientOptions,
  type WebSocketServerOptions,
} from '../../index.js';
import { durationOption } from './common.js';

/** WebSocketClientFlags are the parsed client-side WebSocket flags. */
export interface WebSocketClientFlags {
  header?: string[];
  subprotocol?: string[];
  origin?: string;
  pingInterval?: number;
  pingTimeout?: number;
  maxMessageSize?: number;
}

/** WebSocketServerFlags are the parsed server-side WebSocket flags. */
export interface WebSocketServerFlags {
  allowOrigin?: string[];
  subprotocol?: string[];
  pingInterval?: number;
  pingTimeout?: number;
  maxMessageSize?: number;
}

const collect = (value: string, previous: string[] = []): string[] => [...previous, value];

/** A token (RFC 9110 §5.6.2): what a header name and a subprotocol are made of. */
const TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;

/** withWebSocketClientOptions adds `--header`, `--subprotocol`, `--origin`, `--ping-interval`, `--ping-timeout` and `--max-message-size` to a client command. */
export function withWebSocketClientOptions(command: Command): Command {
  return withKeepaliveOptions(
    command
      .addOption(
        new Option(
          '-H, --header <name:value>',
          'ws://: add a header to the upgrade request (repeatable)',
        ).argParser(collect),
      )
      .addOption(
        new Option(
          '--subprotocol <name>',
          'ws://: offer this subprotocol (repeatable, in order of preference)',
        ).argParser(collect),
      )
      .option('--origin <origin>', 'ws://: send this Origin header, as a page from that origin would'),
  );
}

/** withWebSocketServerOptions adds `--allow-origin`, `--subprotocol`, `--ping-interval`, `--ping-timeout` and `--max-message-size` to a server command. */
export function withWebSocketServerOptions(command: Command): Command {
  return withKeepaliveOptions(
    command
      .addOption(
        new Option(
          '--allow-origin <origin>',
          "ws://: also accept browser pages from ORIGIN (repeatable; '*' for any)",
        )
          .default(undefined, "only the page's own origin")
          .argParser(collect),
      )
      .addOption(
        new Option('--subprotocol <name>', 'ws://: a subprotocol this server speaks (repeatable)').argParser(
          collect,
        ),
      ),
  );
}

/**
 * withWebSocketBridgeOptions adds the WebSocket flags of `forward`, whose listener is a server and
 * whose targets are clients: `--allow-origin` for a ws:// LISTEN, `--header` and `--origin` for
 * ws:// targets, and `--subprotocol`, `--ping-interval`, `--ping-timeout`, `--max-message-size`
 * for every WebSocket side.
 */
export function withWebSocketBridgeOptions(command: Command): Command {
  return withKeepaliveOptions(
    command
      .addOption(
        new Option(
          '--allow-origin <origin>',
          "ws://: a ws:// LISTEN also accepts browser pages from ORIGIN (repeatable; '*' for any)",
        )
          .default(undefined, "only the page's own origin")
          .argParser(collect),
      )
      .addOption(
        new Option(
          '-H, --header <name:value>',
          'ws://: add a header to the upgrade request to ws:// targets (repeatable)',
        ).argParser(collect),
      )
      .option('--origin <origin>', 'ws://: send this Origin header to ws:// targets')
      .addOption(
        new Option(
          '--subprotocol <name>',
          'ws://: a subprotocol a ws:// LISTEN speaks, and ws:// targets are offered (repeatable)',
        ).argParser(collect),
      ),
  );
}

/** WebSocketBridgeFlags are the parsed flags of withWebSocketBridgeOptions. */
export interface WebSocketBridgeFlags extends WebSocketServerFlags, WebSocketClientFlags {}

/**
 * webSocketBridgeOptionsOf reads `forward`'s WebSocket flags: the server options of a ws://
 * `listen` address and the client options of its ws:// targets (each undefined when there is no
 * such side). Throws UsageError for a flag of a side that is not a WebSocket (`--allow-origin`
 * without a ws:// LISTEN, `--header` or `--origin` without a ws:// target), and as
 * webSocketServerOptionsOf and webSocketClientOptionsOf do.
 */
export function webSocketBridgeOptionsOf(
  flags: WebSocketBridgeFlags,
  listen: SocketAddress,
  targets: readonly SocketAddress[],
  report: (event: LimitEvent) => void,
): { server: WebSocketServerOptions | undefined; client: WebSocketClientOptions | undefined } {
  const target = targets.find(isWebSocket);
  if (!isWebSocket(listen) && flags.allowOrigin)
    throw new UsageError('--allow-origin', 'needs a ws:// or wss:// LISTEN (it admits browser pages)');
  if (!target && (flags.header || flags.origin !== undefined))
    throw new UsageError(
      flags.header ? '--header' : '--origin',
      'needs a ws:// or wss:// target (it goes in the upgrade request)',
    );
  return {
    server: webSocketServerOptionsOf(flags, [listen], report),
    client: target ? webSocketClientOptionsOf(flags, target) : undefined,
  };
}

function withKeepaliveOptions(command: Command): Command {
  return command
    .addOption(
      new Option('--ping-interval <duration>', 'ws://: send a ping after this long (keepalive)')
        .default(undefined, 'none')
        .argParser(durationOption('--ping-interval', 1)),
    )
    .addOption(
      new Option(
        '--ping-timeout <duration>',
        'ws://: with --ping-interval, drop a peer that has not answered a ping within this',
      )
        .default(undefined, 'the interval')
        .argParser(durationOption('--ping-timeout', 1)),
    )
    .addOption(
      new Option(
        '--max-message-size <size>',
        'ws://: the largest message accepted; a larger one closes with 1009',
      )
        .default(undefined, formatSize(DEFAULT_MAX_MESSAGE_SIZE))
        .argParser((v) => parseSize(v, '--max-message-size', 1, GiB)),
    );
}

/**
 * webSocketClientOptionsOf reads the client WebSocket flags for `address`: undefined for an
 * address that is not ws:// or wss:// (a flag given for one is refused before any command runs:
 * scheme-flags.ts). Throws UsageError for a malformed header, subprotocol or origin.
 */
export function webSocketClientOptionsOf(
  flags: WebSocketClientFlags,
  address: SocketAddress,
): WebSocketClientOptions | undefined {
  if (!isWebSocket(address)) return undefined;
  const headers = (flags.header ?? []).map(parseHeader);
  for (const name of flags.subprotocol ?? []) checkToken('--subprotocol', name);
  if (flags.origin !== undefined && /[^ -~\u00a0-\u00ff]/.test(flags.origin))
    throw new UsageError(
      '--origin',
      `"${flags.origin}" holds control characters or characters an HTTP header cannot carry`,
    );
  checkPingTimeout(flags);
  return {
    headers,
    subprotocols: flags.subprotocol,
    origin: flags.origin,
    pingInterval: flags.pingInterval,
    pingTimeout: flags.pingTimeout,
    maxMessageSize: flags.maxMessageSize,
  };
}

/**
 * webSocketServerOptionsOf reads the server WebSocket flags for `addresses`: undefined when none
 * is ws:// or wss:// (see scheme-flags.ts for flags given without one). `report` is told of each
 * upgrade refused. Throws UsageError for a malformed origin or subprotocol.
 */
export function webSocketServerOptionsOf(
  flags: WebSocketServerFlags,
  addresses: readonly SocketAddress[],
  report: (event: LimitEvent) => void,
): WebSocketServerOptions | undefined {
  if (!addresses.some(isWebSocket)) return undefined;
  const allowOrigins = (flags.allowOrigin ?? []).map((origin) => {
    try {
      return normalizeOrigin(origin);
    } catch (err) {
      throw new UsageError('--allow-origin', (err as Error).message);
    }
  });
  for (const name of flags.subprotocol ?? []) checkToken('--subprotocol', name);
  checkPingTimeout(flags);
  return {
    allowOrigins,
    subprotocols: flags.subprotocol,
    pingInterval: flags.pingInterval,
    pingTimeout: flags.pingTimeout,
    maxMessageSize: flags.maxMessageSize,
    report,
  };
}

function checkPingTimeout(flags: { pingInterval?: number; pingTimeout?: number }): void {
  if (flags.pingTimeout !== undefined && flags.pingInterval === undefined)
    throw new UsageError('--ping-timeout', 'goes with --ping-interval (the pings it waits for)');
}

/** parseHeader reads `NAME:VALUE` (spaces around VALUE dropped). */
function parseHeader(text: string): [string, string] {
  const colon = text.indexOf(':');
  const name = colon > 0 ? text.slice(0, colon).trim() : '';
  const value = colon > 0 ? text.slice(colon + 1).trim() : '';
  if (!TOKEN.test(name))
    throw new UsageError('--header', `"${text}" is not NAME:VALUE with a header name (letters, digits, -)`);
  if (/[^\t -~\u00a0-\u00ff]/.test(value))
    throw new UsageError(
      '--header',
      `the value of ${name} holds control characters or characters an HTTP header cannot carry`,
    );
  return [name, value];
}

function checkToken(flag: string, text: string): void {
  if (!TOKEN.test(text))
    throw new UsageError(flag, `"${text}" is not a valid name (letters, digits, -._~ and the like)`);
}
