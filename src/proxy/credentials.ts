/**
 * Credentials: the user names and passwords a proxy server accepts (`--user NAME:PASSWORD`), for
 * SOCKS5 (RFC 1929) and HTTP basic authentication (RFC 7617).
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import { UsageError } from '../errors.js';

/** Credentials checks logins against a fixed set of users; it keeps only digests of the passwords. */
export class Credentials {
  readonly #digests = new Map<string, Buffer>();

  /** The constructor takes `[name, password]` pairs; a later pair for the same name replaces the earlier. */
  constructor(users: Iterable<readonly [string, string]>) {
    for (const [name, password] of users) this.#digests.set(name, digest(password));
  }

  /** size is the number of users; a server with none asks for no login. */
  get size(): number {
    return this.#digests.size;
  }

  /** check tells whether `password` is `name`'s, in time that does not depend on how much of it matched. */
  check(name: string, password: string): boolean {
    const want = this.#digests.get(name);
    const got = digest(password);
    // Compared even for an unknown name, so the time taken does not tell which names exist.
    return timingSafeEqual(want ?? digest('\0unknown'), got) && want !== undefined;
  }

  /**
   * checkBasic checks an HTTP `Proxy-Authorization` value (`Basic BASE64(name:password)`) and
   * returns the user name it logged in, or undefined.
   */
  checkBasic(header: string | undefined): string | undefined {
    const match = /^Basic\s+([A-Za-z0-9+/=]+)\s*$/i.exec(header ?? '');
    if (!match) return undefined;
    const text = Buffer.from(match[1] as string, 'base64').toString('utf8');
    const colon = text.indexOf(':');
    if (colon < 0) return undefined;
    const name = text.slice(0, colon);
    return this.check(name, text.slice(colon + 1)) ? name : undefined;
  }
}

/**
 * parseUser reads `NAME:PASSWORD` (the password may hold colons; the name may not). Throws
 * UsageError naming `flag` for an empty name, and for a name or password over 255 bytes (what
 * SOCKS5 can carry).
 */
export function parseUser(text: string, flag = 'user'): readonly [string, string] {
  const colon = text.indexOf(':');
  if (colon <= 0) throw new UsageError(flag, `"${text}": expected NAME:PASSWORD`);
  const name = text.slice(0, colon);
  const password = text.slice(colon + 1);
  if (Buffer.byteLength(name) > 255 || Buffer.byteLength(password) > 255)
    throw new UsageError(
      flag,
      'a user name and a password are at most 255 bytes each (SOCKS5 carries no more)',
    );
  return [name, password];
}

function digest(text: string): Buffer {
  return createHash('sha256').update(text).digest();
}
