/**
 * The capture readers people use, run on a pcapng file: tshark's "Follow stream" (the bytes each
 * side sent, reassembled) and tcpdump's one line per packet. Nothing here reads pcapng itself.
 */
import { execFile } from 'node:child_process';

/** FollowedStream is what `tshark -z follow,PROTO,raw,N` reports of one stream. */
export interface FollowedStream {
  /** The side that sent the first packet (`127.0.0.1:53122`), and the other. */
  readonly node0: string;
  readonly node1: string;
  /** The bytes each side sent, in order. */
  readonly fromNode0: Buffer;
  readonly fromNode1: Buffer;
}

/** run resolves with a program's stdout; it rejects on a non-zero exit, with its stderr. */
export function run(program: string, args: readonly string[]): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile(program, args, { maxBuffer: 256 * 1024 * 1024, timeout: 8000 }, (err, stdout, stderr) => {
      if (err) reject(new Error(`${program} ${args.join(' ')} failed: ${err.message}\n${stderr}`));
      else resolve(stdout);
    });
  });
}

/** follow returns streams 0 to `count - 1` of `protocol` in `file`, as tshark reassembles them, in one run. */
export async function follow(
  file: string,
  protocol: 'tcp' | 'udp',
  count: number,
): Promise<FollowedStream[]> {
  const args = ['-r', file, '-q'];
  for (let i = 0; i < count; i += 1) args.push('-z', `follow,${protocol},raw,${i}`);
  const output = await run('tshark', args);
  const streams: FollowedStream[] = [];
  // tshark prints one block per -z, between lines of '=', not necessarily in the order asked.
  for (const block of output.split(/^=+$/m)) {
    const index = /^Filter: \w+\.stream eq (\d+)$/m.exec(block)?.[1];
    if (index === undefined) continue;
    const node0 = /^Node 0: (.*)$/m.exec(block)?.[1] ?? '';
    const node1 = /^Node 1: (.*)$/m.exec(block)?.[1] ?? '';
    const data = block.slice(block.indexOf('\n', block.indexOf('Node 1:')) + 1);
    const from0: Buffer[] = [];
    const from1: Buffer[] = [];
    for (const line of data.split('\n')) {
      if (line.trim() === '') continue;
      (line.startsWith('\t') ? from1 : from0).push(Buffer.from(line.trim(), 'hex'));
    }
    streams[Number(index)] = {
      node0,
      node1,
      fromNode0: Buffer.concat(from0),
      fromNode1: Buffer.concat(from1),
    };
  }
  return streams;
}

/** tcpdump returns tcpdump's one line per packet of `file`, numbers not resolved. */
export async function tcpdump(file: string): Promise<string[]> {
  const output = await run('tcpdump', ['-r', file, '-nn']);
  return output.split('\n').filter((line) => line !== '');
}
