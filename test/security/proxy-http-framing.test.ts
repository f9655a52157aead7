/**
 * Attacks on the HTTP proxy's plain forwarding (http-forward.ts) that the smuggling tests of
 * test/proxy do not make: a Connection header that names a framing header. RFC 9110 §7.6.1
 * lets a sender name any field in Connection, and the proxy drops every field named there
 * from what it passes on; but it still delimits the body by the field it dropped. The next hop
 * then reads a message with no body, and the body as a request of its own, one the
 * destination rules and the Host rewriting never saw.
 */
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { type AddressInfo, connect, createServer, type Socket } from 'node:net';
import { after, before, describe, test } from 'node:test';
import { type RunningProxy, startProxy } from '../proxy/servers.js';

/** RawOrigin is an origin that records every byte it reads and answers with `reply` per request head. */
interface RawOrigin {
  readonly port: number;
  /** Everything read, over every connection, as latin1. */
  received(): string;
  stop(): void;
}

async function rawOrigin(reply: string): Promise<RawOrigin> {
  let received = '';
  const sockets = new Set<Socket>();
  const server = createServer((socket) => {
    sockets.add(socket);
    socket.on('error', () => {});
    socket.on('close', () => sockets.delete(socket));
    let pending = '';
    socket.on('data', (chunk: Buffer) => {
      received += chunk.toString('latin1');
      pending += chunk.toString('latin1');
      for (let end = pending.indexOf('\r\n\r\n'); end >= 0; end = pending.indexOf('\r\n\r\n')) {
        pending = pending.slice(end + 4);
        socket.write(reply);
      }
    });
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return {
    port: (server.address() as AddressInfo).port,
    received: () => received,
    stop: () => {
      for (const socket of sockets) socket.destroy();
      server.close();
    },
  };
}

/** exchange sends `request` to the proxy and resolves with what comes back until `done` says so, or the close. */
async function exchange(
  proxyPort: number,
  request: string,
  done: (answer: string) => boolean,
): Promise<string> {
  const client = connect(proxyPort, '127.0.0.1');
  client.on('error', () => {});
  client.write(request);
  let answer = '';
  await new Promise<void>((resolve) => {
    client.on('data', (chunk: Buffer) => {
      answer += chunk.toString('latin1');
      if (done(answer)) resolve();
    });
    client.once('close', () => resolve());
  });
  client.destroy();
  return answer;
}

/** headOf returns a message's head, lower-cased, for matching header names. */
function headOf(message: string): string {
  return message.slice(0, message.indexOf('\r\n\r\n') + 2).toLowerCase();
}

/** bodyOf returns what follows a message's head. */
function bodyOf(message: string): string {
  return message.slice(message.indexOf('\r\n\r\n') + 4);
}

describe('HTTP proxy: framing headers named in Connection', () => {
  let proxy: RunningProxy;
  before(async () => {
    proxy = await startProxy();
  });
  after(async () => {
    await proxy.stop();
  });

  test('a request body never reaches the origin as a request of its own (Connection: content-length)', {
    timeout: 8000,
  }, async () => {
    const origin = await rawOrigin('HTTP/1.1 204 No Content\r\n\r\n');
    try {
      const smuggled = 'GET /smuggled HTTP/1.1\r\nHost: admin.internal\r\n\r\n';
      const request =
        `POST http://127.0.0.1:${origin.port}/front HTTP/1.1\r\nConnection: content-length\r\n` +
        `Content-Length: ${smuggled.length}\r\n\r\n${smuggled}`;
      const answer = await exchange(proxy.url('http').port, request, (text) => text.includes('\r\n\r\n'));
      assert.match(answer, /^HTTP\/1\.1 (204|400) /, answer);
      const received = origin.received();
      // Either refused before the origin, or the body went with the length that delimits it.
      if (received !== '') {
        assert.match(headOf(received), new RegExp(`\r\ncontent-length: ${smuggled.length}\r\n`), received);
        assert.equal(bodyOf(received), smuggled);
      }
    } finally {
      origin.stop();
    }
  });

  test('a chunked request body never reaches the origin as a request of its own (Connection: transfer-encoding)', {
    timeout: 8000,
  }, async () => {
    const origin = await rawOrigin('HTTP/1.1 204 No Content\r\n\r\n');
    try {
      const smuggled = 'GET /smuggled HTTP/1.1\r\nHost: admin.internal\r\n\r\n';
      const request =
        `POST http://127.0.0.1:${origin.port}/front HTTP/1.1\r\nConnection: transfer-encoding\r\n` +
        `Transfer-Encoding: chunked\r\n\r\n${smuggled.length.toString(16)}\r\n${smuggled}\r\n0\r\n\r\n`;
      const answer = await exchange(proxy.url('http').port, request, (text) => text.includes('\r\n\r\n'));
      assert.match(answer, /^HTTP\/1\.1 (204|400) /, answer);
      const received = origin.received();
      if (received !== '') {
        assert.match(headOf(received), /\r\ntransfer-encoding: chunked\r\n/, received);
        assert.equal(bodyOf(received), request.slice(request.indexOf('\r\n\r\n') + 4));
      }
    } finally {
      origin.stop();
    }
  });

  test('a response keeps the Content-Length that delimits it on a kept connection (Connection: content-length from the origin)', {
    timeout: 8000,
  }, async () => {
    const origin = await rawOrigin(
      'HTTP/1.1 200 OK\r\nConnection: content-length\r\nContent-Length: 5\r\n\r\nhello',
    );
    try {
      const answer = await exchange(
        proxy.url('http').port,
        `GET http://127.0.0.1:${origin.port}/r HTTP/1.1\r\n\r\n`,
        (text) => text.includes('hello') || text.startsWith('HTTP/1.1 502'),
      );
      if (answer.startsWith('HTTP/1.1 502')) return;
      const head = headOf(answer);
      // A client can delimit the body: by its length, or by the close the proxy announces.
      assert.ok(
        /\r\ncontent-length: 5\r\n/.test(head) || /\r\nconnection: close\r\n/.test(head),
        `a response the client cannot delimit: ${JSON.stringify(answer)}`,
      );
    } finally {
      origin.stop();
    }
  });

  test('a request target with a tab or a control byte is refused with 400, never passed on', {
    timeout: 8000,
  }, async () => {
    const origin = await rawOrigin('HTTP/1.1 204 No Content\r\n\r\n');
    try {
      for (const target of [`/a\tHTTP/1.1`, '/a\x01b', '/a\x7fb']) {
        const answer = await exchange(
          proxy.url('http').port,
          `GET http://127.0.0.1:${origin.port}${target} HTTP/1.1\r\n\r\n`,
          (text) => text.includes('\r\n\r\n'),
        );
        assert.match(answer, /^HTTP\/1\.1 400 /, JSON.stringify(target));
      }
      assert.equal(origin.received(), '');
    } finally {
      origin.stop();
    }
  });

  test('what holds: obs-fold, an overlong chunk size and a chunk size past 13 hex digits are refused before the origin', {
    timeout: 8000,
  }, async () => {
    // An origin that never answers: the 400 cannot race a response.
    const origin = await rawOrigin('');
    // A proxy of its own: its log holds only these attempts.
    const proxy = await startProxy();
    try {
      const target = `http://127.0.0.1:${origin.port}/x`;
      const attempts = [
        `GET ${target} HTTP/1.1\r\nX-A: a\r\n Transfer-Encoding: chunked\r\n\r\n`,
        `POST ${target} HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n10000000000000000\r\nab\r\n0\r\n\r\n`,
        `POST ${target} HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n${'0'.repeat(5000)}1\r\na\r\n0\r\n\r\n`,
        `POST ${target} HTTP/1.1\r\nContent-Length: -1\r\n\r\n`,
        `POST ${target} HTTP/1.1\r\nContent-Length: 1e3\r\n\r\n`,
      ];
      for (const attempt of attempts) {
        const answer = await exchange(proxy.url('http').port, attempt, (text) => text.includes('\r\n\r\n'));
        // An obs-fold is refused before any origin; a body's framing once the origin has the head.
        assert.match(answer, /^HTTP\/1\.1 400 /, attempt.slice(0, 80));
        assert.match((await proxy.nextEvent()).outcome, /^malformed: /);
      }
      // Only the two chunked heads reached the origin, and none of their malformed bodies.
      assert.equal(origin.received().match(/^(GET|POST) /gm)?.length ?? 0, 2, origin.received());
      assert.ok(!origin.received().includes('ab\r\n'), origin.received());
    } finally {
      await proxy.stop();
      origin.stop();
    }
  });
});
