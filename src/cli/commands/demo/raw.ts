/**
 * The raw demo: one ICMP echo request built by hand, field by field, its checksum computed step
 * by step, sent on a raw socket to 127.0.0.1; the reply parsed the same way, the kernel's IPv4
 * header included, which a stream or datagram socket never shows.
 */

import {
  formatHexdump,
  IcmpSocket,
  internetChecksum,
  packetFields,
  type ReceivedPacket,
  TimeoutError,
  type TraceEvent,
  type Tracer,
} from '../../../index.js';
import type { Narration } from './narration.js';

/** The address the demo pings: loopback, always. */
const TARGET = '127.0.0.1';
const WAIT_MS = 2000;

let runs = 0;

/**
 * rawDemo runs the raw socket demo with `message` as the echo payload and resolves true when the
 * reply matched the request. Rejects before printing anything when a raw socket cannot be opened:
 * ERR_PERMISSION_DENIED without root or CAP_NET_RAW (the message says how to grant it), or
 * ERR_RAW_UNAVAILABLE without the raw-socket addon (it says how to build it).
 */
export async function rawDemo(message: string, story: Narration): Promise<boolean> {
  // The socket is opened first, so a missing privilege fails in one line before any narration;
  // its first trace event waits until the step that explains it has been told.
  const held = holdUntilReleased(story.tracer('client'));
  const socket = await IcmpSocket.open(4, { op: 'demo raw', url: TARGET, trace: held.tracer });
  try {
    story.step(
      '1. The program opens a raw socket for the ICMP protocol. It builds whole ICMP messages itself\n' +
        'and sees every ICMP message that reaches the host, which is why it needs root or CAP_NET_RAW.',
    );
    held.release();

    runs += 1;
    const identifier = (process.pid + runs) & 0xffff;
    const sequence = 1;
    const payload = Buffer.from(message);
    const request = Buffer.alloc(8 + payload.length);
    request[0] = 8; // type 8: echo request (RFC 792)
    request[1] = 0; // code 0
    request.writeUInt16BE(0, 2); // the checksum is computed with this field at zero
    request.writeUInt16BE(identifier, 4);
    request.writeUInt16BE(sequence, 6);
    payload.copy(request, 8);
    story.step('2. The program builds an ICMP echo request by hand: an 8-byte header, then the payload.');
    story.say(fieldTable(request, payload));

    story.step(
      '3. The checksum (RFC 1071): add the message up as 16-bit words, fold the carries back into\n' +
        "the low 16 bits, and take the one's complement. The receiver adds it all up, checksum\n" +
        'included, and must get 0xffff before the complement (0 after it).',
    );
    const { lines, checksum } = checksumSteps(request);
    story.say(lines.join('\n'));
    const agrees = checksum === internetChecksum(request);
    story.say(
      `internetChecksum() from the library ${agrees ? 'agrees' : 'DISAGREES'}: 0x${hex(checksum, 4)}.`,
    );
    request.writeUInt16BE(checksum, 2);
    story.say(
      `The request, ${request.length} bytes:\n${formatHexdump(request, packetFields(request, { family: 4, ipHeader: false })).trimEnd()}`,
    );

    story.step(
      `4. The program sends it to ${TARGET}. The kernel puts an IPv4 header in front and hands the\n` +
        "packet to the loopback interface; the kernel's own ICMP code answers with an echo reply.",
    );
    const replies = awaitReply(socket, identifier, sequence);
    await socket.send(request, TARGET);
    const { reply, sawOwnRequest } = await replies;
    if (sawOwnRequest) {
      story.say(
        'The raw socket also received the request itself, as it arrived over loopback: a raw socket\n' +
          'sees every ICMP message for the host, and the program must pick out the ones it awaits.',
      );
    }

    story.step(
      "5. The reply, parsed the same way. It starts with the kernel's IPv4 header, which a stream or\n" +
        'datagram socket never shows: TTL, protocol 1 (ICMP), source and destination.',
    );
    story.say(
      `${reply.bytes.length} bytes from ${reply.source}:\n` +
        formatHexdump(reply.bytes, packetFields(reply.bytes, { family: 4, ipHeader: true })).trimEnd(),
    );
    const echo = reply.message.kind === 'echo-reply' ? reply.message : undefined;
    const payloadBack = echo?.payload.equals(payload) === true;
    story.say(
      `IPv4 header: ${reply.ip?.headerLength ?? 0} bytes, TTL ${reply.ttl ?? '?'}, header checksum ` +
        `${reply.ip?.checksumValid ? 'correct' : 'WRONG'}. ICMP: type ${reply.message.type} (echo reply), ` +
        `identifier ${echo?.identifier ?? '?'}, sequence ${echo?.sequence ?? '?'}, checksum correct, ` +
        `payload ${payloadBack ? 'returned unchanged' : 'CHANGED'}.`,
    );

    story.step('6. The program closes the raw socket.');
    socket.close();
    const ok = agrees && payloadBack && reply.ip?.checksumValid === true;
    story.conclude(
      ok
        ? `Echo request built by hand, checksum 0x${hex(checksum, 4)}; echo reply from ${reply.source}: the payload came back unchanged.`
        : 'The reply did NOT match the request as described above.',
    );
    story.conclude(
      'Next: `sudo npx sockkit ping 127.0.0.1 -c 1 --hexdump` does the same with every option, and\n' +
        '`sudo npx sockkit traceroute 127.0.0.1` sends echoes with growing TTLs; in another terminal\n' +
        '`sudo tcpdump -i lo -n -X icmp` shows the same bytes as they cross loopback.',
    );
    return ok;
  } finally {
    socket.close();
  }
}

/** holdUntilReleased queues a tracer's events until `release`, then passes them on as they come. */
function holdUntilReleased(tracer: Tracer): { tracer: Tracer; release: () => void } {
  let held: TraceEvent[] | undefined = [];
  return {
    tracer: (event) => {
      if (held) held.push(event);
      else tracer(event);
    },
    release: () => {
      for (const event of held ?? []) tracer(event);
      held = undefined;
    },
  };
}

/** awaitReply resolves with the echo reply matching `identifier` and `sequence`, or rejects after WAIT_MS. */
function awaitReply(
  socket: IcmpSocket,
  identifier: number,
  sequence: number,
): Promise<{ reply: ReceivedPacket; sawOwnRequest: boolean }> {
  return new Promise((resolve, reject) => {
    let sawOwnRequest = false;
    const onPacket = (packet: ReceivedPacket): void => {
      const { message } = packet;
      if (message.kind !== 'echo-request' && message.kind !== 'echo-reply') return;
      if (message.identifier !== identifier || message.sequence !== sequence) return;
      if (message.kind === 'echo-request') {
        sawOwnRequest = true;
        return;
      }
      finish();
      resolve({ reply: packet, sawOwnRequest });
    };
    const timer = setTimeout(() => {
      finish();
      reject(new TimeoutError('demo raw', TARGET, `no echo reply within ${WAIT_MS} ms`));
    }, WAIT_MS);
    const finish = (): void => {
      clearTimeout(timer);
      socket.off('packet', onPacket);
    };
    socket.on('packet', onPacket);
  });
}

/** fieldTable shows the request's header fields and payload, one per line. */
function fieldTable(request: Buffer, payload: Buffer): string {
  const bytes = (from: number, to: number): string =>
    Array.from(request.subarray(from, to), (b) => hex(b, 2)).join(' ');
  const shown = payload.subarray(0, 16);
  const more =
    payload.length > shown.length ? ` ... (${payload.length} bytes)` : ` (${payload.length} bytes)`;
  return [
    'offset  bytes     field',
    `0       ${bytes(0, 1).padEnd(10)}type 8: echo request`,
    `1       ${bytes(1, 2).padEnd(10)}code 0`,
    `2-3     ${bytes(2, 4).padEnd(10)}checksum: zero while it is computed`,
    `4-5     ${bytes(4, 6).padEnd(10)}identifier ${request.readUInt16BE(4)}: chosen by the sender to find its replies`,
    `6-7     ${bytes(6, 8).padEnd(10)}sequence ${request.readUInt16BE(6)}: counts the requests`,
    `8-      ${'...'.padEnd(10)}payload ${JSON.stringify(shown.toString('latin1'))}${more}: echoed back as is`,
  ].join('\n');
}

/** checksumSteps computes the RFC 1071 checksum of `message` one word at a time, explaining each step. */
function checksumSteps(message: Buffer): { lines: string[]; checksum: number } {
  const lines: string[] = [];
  let sum = 0;
  const words = Math.ceil(message.length / 2);
  for (let i = 0; i < words; i += 1) {
    const high = message[2 * i] as number;
    const low = 2 * i + 1 < message.length ? (message[2 * i + 1] as number) : 0;
    const word = (high << 8) | low;
    sum += word;
    const what =
      i === 0
        ? 'type and code'
        : i === 1
          ? 'checksum field (zero)'
          : i === 2
            ? 'identifier'
            : i === 3
              ? 'sequence'
              : `payload ${JSON.stringify(String.fromCharCode(high) + (2 * i + 1 < message.length ? String.fromCharCode(low) : ''))}` +
                (2 * i + 1 < message.length ? '' : ', padded with a zero byte');
    lines.push(`${i === 0 ? ' ' : '+'} ${hex(word, 4)}   ${what.padEnd(34)} sum 0x${hex(sum, 5)}`);
  }
  let folded = sum;
  while (folded > 0xffff) {
    const next = (folded & 0xffff) + (folded >>> 16);
    lines.push(
      `fold the carry: 0x${hex(folded & 0xffff, 4)} + 0x${hex(folded >>> 16, 1)} = 0x${hex(next, 4)}`,
    );
    folded = next;
  }
  const checksum = ~folded & 0xffff;
  lines.push(`one's complement: ~0x${hex(folded, 4)} = 0x${hex(checksum, 4)}, the checksum`);
  return { lines, checksum };
}

function hex(value: number, width: number): string {
  return value.toString(16).padStart(width, '0');
}
