/**
 * Request templates for bench's request/response mode: the bytes of each request, with
 * substitutions so requests can differ (`SET key:{conn} {rand:1000}`), and the escapes the command
 * line uses to write bytes a shell cannot (`PING\r\n`, `\x00\x05hello`). Pure: no socket in sight.
 */

/**
 * SUBSTITUTIONS are the markers a template may hold: `{conn}` (the connection's number, from 0),
 * `{seq}` (the request's number on its connection, from 0), `{rand}` (a random integer from 0 to
 * 2³²−1) and `{rand:N}` (from 0 to N−1). Any other brace is a literal byte, so JSON stays JSON.
 */
export const SUBSTITUTIONS = ['{conn}', '{seq}', '{rand}', '{rand:N}'] as const;

/** unescapeBytes turns the command line's escapes into bytes: `\r \n \t \0 \\ \xHH`. Throws RangeError for any other. */
export function unescapeBytes(text: string): Buffer {
  const bytes: number[] = [];
  const literal = Buffer.from(text, 'utf8');
  for (let i = 0; i < literal.length; i += 1) {
    const byte = literal[i] as number;
    if (byte !== 0x5c) {
      bytes.push(byte);
      continue;
    }
    const next = String.fromCharCode(literal[i + 1] ?? 0);
    const simple: Record<string, number> = { r: 0x0d, n: 0x0a, t: 0x09, '0': 0x00, '\\': 0x5c };
    if (next in simple) {
      bytes.push(simple[next] as number);
      i += 1;
    } else if (next === 'x' && /^[0-9a-fA-F]{2}$/.test(literal.subarray(i + 2, i + 4).toString('latin1'))) {
      bytes.push(Number.parseInt(literal.subarray(i + 2, i + 4).toString('latin1'), 16));
      i += 3;
    } else {
      throw new RangeError(
        `unknown escape "\\${next === '\0' ? '' : next}" (use \\r \\n \\t \\0 \\\\ \\xHH)`,
      );
    }
  }
  return Buffer.from(bytes);
}

/** A template part: literal bytes, or a value substituted per request. */
type Part = Buffer | { readonly kind: 'conn' | 'seq' } | { readonly kind: 'rand'; readonly below: number };

const MARKER = /\{(conn|seq|rand)(?::([0-9]+))?\}/g;
const RAND_RANGE = 2 ** 32;

/** Random is a source of random 32-bit unsigned integers (bench uses a seeded xorshift, so runs repeat). */
export type Random = () => number;

/**
 * RequestTemplate is one request's bytes with its substitutions found once. `render` is cheap: a
 * template without substitutions returns the same Buffer every time, allocating nothing.
 */
export class RequestTemplate {
  readonly #parts: readonly Part[];
  /** fixed is the bytes, when the template has no substitution. */
  readonly fixed: Buffer | undefined;

  /** The template `bytes` (a `{rand}` is refused when `allowRandom` is false: an expected reply cannot be random). */
  constructor(bytes: Uint8Array, allowRandom = true) {
    const text = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('latin1');
    const parts: Part[] = [];
    let last = 0;
    for (const match of text.matchAll(MARKER)) {
      const at = match.index ?? 0;
      const [whole, name, argument] = match;
      if (name !== 'rand' && argument !== undefined) continue; // `{seq:3}` is not a marker: literal
      if (at > last) parts.push(Buffer.from(text.slice(last, at), 'latin1'));
      if (name === 'rand') {
        if (!allowRandom) throw new RangeError(`${whole}: a reply check cannot be random`);
        const below = argument === undefined ? RAND_RANGE : Number(argument);
        if (!(below >= 1 && below <= RAND_RANGE)) throw new RangeError(`${whole}: N must be from 1 to 2^32`);
        parts.push({ kind: 'rand', below });
      } else {
        parts.push({ kind: name as 'conn' | 'seq' });
      }
      last = at + whole.length;
    }
    if (last < text.length || parts.length === 0) parts.push(Buffer.from(text.slice(last), 'latin1'));
    this.#parts = parts;
    this.fixed = parts.length === 1 && Buffer.isBuffer(parts[0]) ? parts[0] : undefined;
  }

  /** render returns the bytes for connection `conn`'s request number `seq`, drawing from `random`. */
  render(conn: number, seq: number, random: Random): Buffer {
    if (this.fixed) return this.fixed;
    const pieces: Buffer[] = [];
    for (const part of this.#parts) {
      if (Buffer.isBuffer(part)) pieces.push(part);
      else if (part.kind === 'conn') pieces.push(Buffer.from(String(conn)));
      else if (part.kind === 'seq') pieces.push(Buffer.from(String(seq)));
      else if (part.kind === 'rand')
        pieces.push(Buffer.from(String(part.below === RAND_RANGE ? random() : random() % part.below)));
    }
    return Buffer.concat(pieces);
  }
}

/** splitRequestLines reads a `--requests` file: one request per line (LF or CRLF), escapes understood, blank lines skipped. */
export function splitRequestLines(text: string): Buffer[] {
  return text
    .split('\n')
    .map((line, i) => ({ line: line.replace(/\r$/, ''), number: i + 1 }))
    .filter(({ line }) => line.length > 0)
    .map(({ line, number }) => {
      try {
        return unescapeBytes(line);
      } catch (err) {
        throw new RangeError(`line ${number}: ${(err as Error).message}`);
      }
    });
}
