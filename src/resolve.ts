/**
 * Name resolution shared by every transport: a name resolves to every address it has, so a client
 * can try them in turn and a server can bind them all.
 */
import { lookup } from 'node:dns/promises';
import { isIP } from 'node:net';

/** ResolvedHost is one IP address a name resolved to. */
export interface ResolvedHost {
  readonly ip: string;
  readonly family: 4 | 6;
}

/**
 * resolveHost returns every address `host` resolves to, in the resolver's order; an IP literal
 * resolves to itself without a lookup. `family` keeps only IPv4 (4) or IPv6 (6) answers.
 * Rejects with the resolver's system error (ENOTFOUND, EAI_AGAIN); callers wrap it with their op.
 */
export async function resolveHost(host: string, family?: 4 | 6): Promise<ResolvedHost[]> {
  const literal = isIP(host);
  if (literal !== 0) {
    if (family && family !== literal) {
      throw Object.assign(new Error(`${host} is not an IPv${family} address`), { code: 'EAFNOSUPPORT' });
    }
    return [{ ip: host, family: literal as 4 | 6 }];
  }
  const answers = await lookup(host, { all: true, family: family ?? 0, verbatim: true });
  if (answers.length === 0) throw Object.assign(new Error(`${host} has no address`), { code: 'ENOTFOUND' });
  return answers.map((a) => ({ ip: a.address, family: a.family as 4 | 6 }));
}
