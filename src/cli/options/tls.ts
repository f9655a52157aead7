/**
 * The TLS flags, shared by every command: `withTlsServerOptions` / `withTlsClientOptions` add
 * them to a command, and `tlsServerOptionsOf` / `tlsClientOptionsOf` turn the parsed flags into
 * the library's TlsServerOptions / TlsClientOptions (for `ListenOptions.tls` / `DialOptions.tls`,
 * and `BenchOptions.tls`).
 */
import { hostname } from 'node:os';
import { createSecureContext } from 'node:tls';
import { type Command, Option } from 'commander';
import {
  certificateFingerprint,
  certificateNames,
  DEFAULT_HANDSHAKE_TIMEOUT,
  formatAddress,
  normalizeFingerprint,
  resolveHost,
  type SocketAddress,
  selfSignedCertificate,
  type TlsClientOptions,
  type TlsServerOptions,
  UsageError,
} from '../../index.js';
import { warn } from '../run.js';
import { durationDefault, durationOption } from './common.js';
import { readOptionFile } from './option-file.js';

/** TlsServerFlags are the parsed server-side TLS flags. */
export interface TlsServerFlags {
  cert?: string;
  key?: string;
  selfSigned?: boolean;
  clientCa?: string;
  alpn?: string;
  handshakeTimeout?: number;
}

/** TlsClientFlags are the parsed client-side TLS flags. */
export interface TlsClientFlags {
  ca?: string;
  servername?: string;
  cert?: string;
  key?: string;
  insecure?: boolean;
  fingerprint?: string;
  alpn?: string;
}

/** withTlsServerOptions adds `--cert`, `--key`, `--self-signed`, `--client-ca`, `--alpn` and `--handshake-timeout` to a server command. */
export function withTlsServerOptions(command: Command, usage = command.name()): Command {
  return command
    .option('--cert <file>', 'tls://: the server certificate chain (PEM)')
    .option('--key <file>', 'tls://: the private key of --cert (PEM)')
    .option(
      '--self-signed',
      'tls://: make a development certificate in memory; prints its SHA-256 fingerprint',
    )
    .option('--client-ca <file>', 'tls://: require client certificates signed by this CA (mutual TLS)')
    .option('--alpn <protocols>', 'tls://: ALPN protocols to offer, comma-separated (e.g. h2,http/1.1)')
    .addOption(
      new Option(
        '--handshake-timeout <duration>',
        'tls://: drop clients that have not finished the handshake',
      )
        .default(...durationDefault(DEFAULT_HANDSHAKE_TIMEOUT))
        .argParser(durationOption('--handshake-timeout', 1)),
    )
    .addHelpText(
      'after',
      `
TLS examples:
  sockkit ${usage} tls://127.0.0.1:8443 --self-signed            # prints the certificate's fingerprint
  sockkit ${usage} tls://[::]:8443 --cert server.pem --key server.key --alpn h2,http/1.1
  sockkit ${usage} tls://127.0.0.1:8443 --cert s.pem --key s.key --client-ca ca.pem  # mutual TLS`,
    );
}

/** withTlsClientOptions adds `--ca`, `--servername`, `--cert`, `--key`, `--fingerprint`, `--insecure` and `--alpn` to a client command. */
export function withTlsClientOptions(command: Command, usage = command.name()): Command {
  return command
    .option('--ca <file>', 'tls://: trust this CA (PEM) instead of the system store')
    .addOption(
      new Option('--servername <name>', 'tls://: the name for SNI and certificate verification').default(
        undefined,
        'the URL host',
      ),
    )
    .option('--cert <file>', 'tls://: a client certificate (PEM), for servers that ask for one')
    .option('--key <file>', 'tls://: the private key of --cert (PEM)')
    .option(
      '--fingerprint <sha256>',
      'tls://: trust exactly the certificate with this SHA-256 fingerprint (pinning)',
    )
    .option('--insecure', 'tls://: do NOT verify the server certificate or host name (warns each time)')
    .option('--alpn <protocols>', 'tls://: ALPN protocols to offer, comma-separated')
    .addHelpText(
      'after',
      `
TLS examples:
  sockkit ${usage} tls://example.test:443 ${command.name() === 'send' ? "'hi' " : ''}--ca ca.pem
  sockkit ${usage} tls://127.0.0.1:8443 ${command.name() === 'send' ? "'hi' " : ''}--servername localhost --ca server.pem
  sockkit ${usage} tls://127.0.0.1:8443 ${command.name() === 'send' ? "'hi' " : ''}--fingerprint 3A:91:...:7C   # pin a --self-signed server
  sockkit ${usage} tls://127.0.0.1:8443 ${command.name() === 'send' ? "'hi' " : ''}--insecure   # no verification: tests only`,
    );
}

/**
 * tlsServerOptionsOf reads the server TLS flags for `addresses`. It returns undefined when no
 * address is tls://, and throws UsageError when TLS flags come without a tls:// address, when a
 * tls:// address has neither --cert/--key nor --self-signed, or when a file cannot be read.
 * With --self-signed it makes a certificate for the listening names and prints its fingerprint.
 */
export async function tlsServerOptionsOf(
  flags: TlsServerFlags,
  addresses: readonly SocketAddress[],
): Promise<TlsServerOptions | undefined> {
  const tls = addresses.filter((a) => a.scheme === 'tls' || a.scheme === 'wss');
  const given = ['cert', 'key', 'selfSigned', 'clientCa', 'alpn'].filter(
    (k) => flags[k as keyof TlsServerFlags],
  );
  if (tls.length === 0) {
    if (given.length > 0)
      throw new UsageError('tls', `--${kebab(given[0] as string)} needs a tls:// address`);
    return undefined;
  }
  const base = {
    handshakeTimeout: flags.handshakeTimeout,
    alpn: alpnList(flags.alpn),
    clientCa: flags.clientCa ? readPem('--client-ca', flags.clientCa) : undefined,
  };
  if (flags.selfSigned) {
    if (flags.cert || flags.key)
      throw new UsageError('tls', 'use either --self-signed or --cert/--key, not both');
    const names: string[] = [];
    for (const address of tls) {
      if (address.scheme === 'unix') continue;
      const resolved = await resolveHost(address.host).catch(() => []);
      names.push(
        ...certificateNames(
          address.host,
          resolved.map((r) => r.ip),
          hostname(),
        ),
      );
    }
    const made = await selfSignedCertificate(names);
    warn(
      `self-signed certificate for ${[...new Set(names)].join(', ')}; SHA-256 fingerprint ${made.fingerprint}`,
    );
    return { ...base, cert: made.cert, key: made.key };
  }
  if (!flags.cert || !flags.key) {
    throw new UsageError(
      'tls',
      `${tls.map(formatAddress).join(', ')} needs --cert FILE --key FILE, or --self-signed for a development certificate`,
    );
  }
  const cert = readPem('--cert', flags.cert);
  const key = readPem('--key', flags.key);
  checkPair(cert, key);
  return { ...base, cert, key };
}

/**
 * tlsClientOptionsOf reads the client TLS flags for `address`; it returns undefined for an address
 * that is not tls:// (and throws UsageError if TLS flags were given for one). `--insecure` prints a
 * warning on stderr every time it is used.
 */
export function tlsClientOptionsOf(
  flags: TlsClientFlags,
  address: SocketAddress,
): TlsClientOptions | undefined {
  if (address.scheme !== 'tls' && address.scheme !== 'wss') {
    const given = ['ca', 'servername', 'cert', 'key', 'insecure', 'alpn', 'fingerprint'].find(
      (k) => flags[k as keyof TlsClientFlags],
    );
    if (given) throw new UsageError('tls', `--${given} needs a tls:// address`);
    return undefined;
  }
  if (Boolean(flags.cert) !== Boolean(flags.key)) throw new UsageError('tls', '--cert and --key go together');
  let fingerprint: string | undefined;
  if (flags.fingerprint !== undefined) {
    if (flags.insecure) throw new UsageError('tls', 'use either --fingerprint or --insecure, not both');
    try {
      fingerprint = normalizeFingerprint(flags.fingerprint);
    } catch {
      throw new UsageError(
        '--fingerprint',
        `"${flags.fingerprint}" is not a SHA-256 fingerprint (64 hex digits)`,
      );
    }
  }
  if (flags.insecure) {
    warn(
      `warning: --insecure: the certificate of ${formatAddress(address)} is NOT verified; anyone in the path can read and change this traffic`,
    );
  }
  const cert = flags.cert ? readPem('--cert', flags.cert) : undefined;
  const key = flags.key ? readPem('--key', flags.key) : undefined;
  if (cert && key) checkPair(cert, key);
  return {
    ca: flags.ca ? readPem('--ca', flags.ca) : undefined,
    servername: flags.servername,
    cert,
    key,
    insecure: flags.insecure === true,
    fingerprint,
    alpn: alpnList(flags.alpn),
  };
}

function readPem(flag: string, file: string): Buffer {
  const text = readOptionFile(flag, file);
  if (!text.includes('-----BEGIN '))
    throw new UsageError(flag, `${file} is not a PEM file (no -----BEGIN line)`);
  if (flag !== '--key') {
    try {
      certificateFingerprint(text);
    } catch {
      throw new UsageError(flag, `${file} holds no readable certificate`);
    }
  }
  return text;
}

function checkPair(cert: Buffer, key: Buffer): void {
  try {
    createSecureContext({ cert, key });
  } catch (err) {
    throw new UsageError('--cert/--key', `the key does not fit the certificate (${(err as Error).message})`);
  }
}

function alpnList(text: string | undefined): string[] | undefined {
  if (text === undefined) return undefined;
  const list = text
    .split(',')
    .map((p) => p.trim())
    .filter((p) => p !== '');
  if (list.length === 0 || list.some((p) => p.length > 255))
    throw new UsageError('--alpn', `invalid protocol list "${text}"`);
  return list;
}

function kebab(name: string): string {
  return name.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`);
}
