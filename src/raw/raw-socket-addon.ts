/**
 * The optional `raw-socket` native addon: its types (it ships none), loading it lazily with a
 * useful error when it is missing, and turning its errors (strerror text) into SockkitErrors.
 */
import {
  fromSystemError,
  IoError,
  PermissionDeniedError,
  RawUnavailableError,
  type SockkitError,
} from '../errors.js';

/** The part of the `raw-socket` addon sockkit uses (it ships no type declarations). */
export interface RawSocketModule {
  createSocket(options: { protocol: number; addressFamily: number; bufferSize?: number }): RawSocket;
  AddressFamily: { IPv4: number; IPv6: number };
  Protocol: { ICMP: number; ICMPv6: number };
  SocketLevel: { SOL_SOCKET: number; IPPROTO_IP: number; IPPROTO_IPV6: number };
  SocketOption: { SO_RCVBUF: number; IP_TTL: number; IPV6_UNICAST_HOPS: number };
}

/** RawSocket is the addon's socket object, as far as sockkit uses it. */
export interface RawSocket {
  on(event: 'message', listener: (buffer: Buffer, source: string) => void): void;
  on(event: 'error', listener: (err: Error) => void): void;
  on(event: 'close', listener: () => void): void;
  send(
    buffer: Buffer,
    offset: number,
    length: number,
    address: string,
    before: () => void,
    after: (err: Error | null, bytes: number) => void,
  ): void;
  setOption(level: number, option: number, value: number): void;
  /** getOption reads an option into `value` (its whole length is offered) and returns the bytes written. */
  getOption(level: number, option: number, value: Buffer, length: number): number;
  close(): void;
}

/** HOW_TO_GRANT tells a user how to give node raw sockets without running everything as root. */
export const HOW_TO_GRANT = 'sudo setcap cap_net_raw+ep "$(readlink -f "$(command -v node)")"';

/** RAW_SOCKET_MODULE is the addon's package name. */
export const RAW_SOCKET_MODULE = 'raw-socket';

let loaded: Promise<RawSocketModule> | undefined;

/**
 * loadRawSocket imports the `raw-socket` addon once. Rejects with ERR_RAW_UNAVAILABLE, saying how
 * to build it, when it is missing or failed to build. `specifier` exists for tests.
 */
export function loadRawSocket(
  op: string,
  url: string,
  specifier = RAW_SOCKET_MODULE,
): Promise<RawSocketModule> {
  const attempt = (): Promise<RawSocketModule> =>
    import(specifier).then(
      (module: { default?: RawSocketModule } & RawSocketModule) => module.default ?? module,
      (err: unknown) => {
        const detail =
          (err as NodeJS.ErrnoException).code ?? (err instanceof Error ? err.message : String(err));
        throw new RawUnavailableError(
          op,
          url,
          `raw sockets are unavailable: the optional ${specifier} addon is not installed or did not build (${detail}); ` +
            `install a C++ compiler, make and python3, then run \`npm rebuild ${specifier}\``,
          { cause: err },
        );
      },
    );
  if (specifier !== RAW_SOCKET_MODULE) return attempt();
  loaded ??= attempt().catch((err: unknown) => {
    loaded = undefined;
    throw err;
  });
  return loaded;
}

// raw-socket reports failures as strerror(3) text without an errno name; map the ones that matter.
const rawErrors: Array<[RegExp, string]> = [
  [/Operation not permitted|Permission denied/i, 'EPERM'],
  [/Network is unreachable/i, 'ENETUNREACH'],
  [/No route to host/i, 'EHOSTUNREACH'],
  [/Message too long/i, 'EMSGSIZE'],
  [/Invalid argument/i, 'EINVAL'],
  [/Address family not supported/i, 'EAFNOSUPPORT'],
];

/**
 * fromRawError turns an addon error into a SockkitError. EPERM while opening means no privilege,
 * and the message says how to grant it; while sending it means a firewall rule or a broadcast.
 */
export function fromRawError(op: string, url: string, err: unknown, opening = false): SockkitError {
  const text = err instanceof Error ? err.message : String(err);
  const errno = rawErrors.find(([pattern]) => pattern.test(text))?.[1];
  if (errno === 'EPERM' && opening) {
    return new PermissionDeniedError(
      op,
      url,
      `raw sockets need root or the CAP_NET_RAW capability; run as root, or grant it with: ${HOW_TO_GRANT}`,
      { cause: err },
    );
  }
  if (errno === 'EPERM') {
    return new PermissionDeniedError(
      op,
      url,
      'operation not permitted (a firewall rule, or a broadcast address)',
      {
        cause: err,
      },
    );
  }
  if (!errno) return new IoError(op, url, text, { cause: err });
  return fromSystemError(op, url, Object.assign(new Error(text), { code: errno }));
}
