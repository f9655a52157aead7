/**
 * The names a proxy looks up for a client: a SOCKS CONNECT or UDP ASSOCIATE destination, an HTTP
 * proxy request's host. Anything else (a control byte, a byte past 0x7f, a name over 253 bytes) is
 * refused before it reaches a resolver, a log line or the next hop.
 */

/** isHostName tells whether `name` may be looked up: letters, digits, `-`, `_` and dots. */
export function isHostName(name: string): boolean {
  return /^(?=.{1,253}$)[A-Za-z0-9_]([A-Za-z0-9_-]{0,62})(\.[A-Za-z0-9_]([A-Za-z0-9_-]{0,62}))*\.?$/.test(
    name,
  );
}
