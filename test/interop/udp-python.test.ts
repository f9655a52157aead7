import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { hostPort, runCli, startCli } from '../helpers.js';
import { hasCommand, startPeer } from './udp-peers.js';

const skip = hasCommand('python3') ? false : 'python3 is not installed (apt-get install python3)';

/** A Python SOCK_DGRAM client: argv host port, then checks given as Python code on stdin. */
const pythonClient = `
import socket, struct, sys, time
host, port = sys.argv[1], int(sys.argv[2])
family = socket.AF_INET6 if ':' in host else socket.AF_INET
s = socket.socket(family, socket.SOCK_DGRAM)
s.settimeout(3)
def ask(data, expect_reply=True):
    for attempt in range(3):
        s.sendto(data, (host, port))
        try:
            reply, peer = s.recvfrom(70000)
            return reply
        except socket.timeout:
            if not expect_reply:
                return None
    raise SystemExit('no reply')
exec(sys.stdin.read())
print('OK')
`;

async function python(url: string, checks: string): Promise<void> {
  const { host, port } = hostPort(url);
  const peer = await startPeer('python3', ['-c', pythonClient, host, String(port)]);
  peer.child.stdin?.end(checks);
  try {
    await peer.until('OK', 8000);
  } finally {
    await peer.stop();
  }
}

describe('sockkit against Python socket (SOCK_DGRAM)', { skip }, () => {
  test('a Python client gets every datagram back from sockkit echo udp://, 0 to max bytes, IPv4 and IPv6', async () => {
    const server = await startCli(['echo', 'udp://127.0.0.1:0', 'udp://[::1]:0'], { listens: 2 });
    try {
      const sizes = (max: number): string => `[0, 1, 2, 548, 1472, 1473, 9000, 32768, ${max - 1}, ${max}]`;
      const check = (max: number): string => `
for n in ${sizes(max)}:
    data = bytes((i * 13 + n) % 256 for i in range(n))
    assert ask(data) == data, n
`;
      await python(server.urls[0] as string, check(65507));
      await python(server.urls[1] as string, check(65527));
    } finally {
      assert.equal((await server.stop()).code, 0);
    }
  });

  test('a Python client reads sockkit serve time, daytime, chargen and discard as the RFCs say', async () => {
    const run = async (service: string, checks: string): Promise<void> => {
      const server = await startCli(['serve', service, 'udp://127.0.0.1:0']);
      try {
        await python(server.urls[0] as string, checks);
      } finally {
        await server.stop();
      }
    };
    await run(
      'time',
      `
(seconds,) = struct.unpack('!I', ask(b''))
assert abs(seconds - (int(time.time()) + 2208988800) % 2**32) <= 1, seconds
`,
    );
    await run(
      'daytime',
      `
line = ask(b'x').decode()
assert line.endswith('-UTC\\r\\n'), line
assert time.strftime('%Y', time.gmtime()) in line, line
`,
    );
    await run(
      'chargen',
      `
ring = ''.join(chr(c) for c in range(32, 127))
pattern = ''.join((ring * 2)[i:i + 72] + '\\r\\n' for i in range(95))
for _ in range(5):
    reply = ask(b'').decode('latin1')
    assert len(reply) <= 512
    assert reply in (pattern * 2), reply
`,
    );
    await run(
      'discard',
      `
s.settimeout(0.3)
assert ask(b'into the void', expect_reply=False) is None
`,
    );
  });

  test('sockkit send udp:// and connect udp:// talk to a Python UDP echo server', async () => {
    const server = await startPeer(
      'python3',
      [
        '-c',
        `
import socket, sys
s = socket.socket(socket.AF_INET6, socket.SOCK_DGRAM)
s.bind(('::1', 0))
print('listening', s.getsockname()[1], file=sys.stderr, flush=True)
while True:
    data, peer = s.recvfrom(70000)
    s.sendto(data.upper(), peer)
`,
      ],
      /listening (\d+)/,
    );
    try {
      const port = Number(server.ready?.[1]);
      const sent = await runCli(['send', `udp://[::1]:${port}`, 'hello python']);
      assert.equal(sent.code, 0, sent.stderr);
      assert.equal(sent.stdout.toString(), 'HELLO PYTHON');
      const relayed = await runCli(['connect', `udp://[::1]:${port}`, '--lines', '--linger', '300ms'], {
        input: 'one\ntwo\n',
      });
      assert.equal(relayed.code, 0, relayed.stderr);
      assert.equal(relayed.stdout.toString(), 'ONE\nTWO\n');
    } finally {
      await server.stop();
    }
  });
});
