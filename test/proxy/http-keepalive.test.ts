import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { writeFileSync } from 'node:fs';
import { createServer as createHttpServer, type Server as HttpServer } from 'node:http';
import { connect, createServer, type Socket } from 'node:net';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { runProgram, tempDir } from '../helpers.js';
import { type RunningProxy, startProxy } from './servers.js';

/** An HTTP/1.1 origin (Node's http, keep-alive) that says what it was asked, and counts its connections. */
interface Origin {
  readonly port: number;
  readonly seen: string[];
  connections: number;
  close(): void;
}

async function startOrigin(): Promise<Origin> {
  const origin = { port: 0, seen: [] as string[], connections: 0, close: () => {} };
  const server: HttpServer = createHttpServer({ keepAliveTimeout: 30_000 }, (request, response) => {
    const body: Buffer[] = [];
    request.on('data', (chunk: Buffer) => body.push(chunk));
    request.on('end', () => {
      const said = `${request.method} ${request.url} host=${request.headers.host} body=${Buffer.concat(body)}`;
      origin.seen.push(`${said} connection=${request.headers.connection ?? ''}`);
      response.setHeader('Content-Length', Buffer.byteLength(said));
      response.end(said);
    });
  });
  server.on('connection', () => {
    origin.connections += 1;
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  origin.port = (server.address() as { port: number }).port;
  origin.close = () => server.close() && server.closeAllConnections();
  return origin;
}

/** rawOrigin answers the n-th request on each connection with `answers[n]`, and closes after the last. */
async function rawOrigin(answers: readonly string[]): Promise<{ port: number; close(): void }> {
  const server = createServer((socket) => {
    socket.on('error', () => {});
    let held = '';
    let served = 0;
    socket.on('data', (chunk: Buffer) => {
      held += chunk.toString('latin1');
      for (let end = held.indexOf('\r\n\r\n'); end >= 0; end = held.indexOf('\r\n\r\n')) {
        held = held.slice(end + 4);
        socket.write(answers[served] ?? '');
        served += 1;
        if (served >= answers.length) socket.end();
      }
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    port: (server.address() as { port: number }).port,
    close: () => server.close(),
  };
}

/** exchange writes `bytes` to the proxy and resolves with everything it answers until it closes. */
async function exchange(proxyPort: number, bytes: string): Promise<string> {
  const socket: Socket = connect({ host: '127.0.0.1', port: proxyPort });
  socket.on('error', () => {});
  const chunks: Buffer[] = [];
  socket.on('data', (chunk: Buffer) => chunks.push(chunk));
  await once(socket, 'connect');
  socket.write(bytes);
  await once(socket, 'close');
  return Buffer.concat(chunks).toString('latin1');
}

/** startPythonOrigin runs python3's http.server (HTTP/1.1, keep-alive) on 127.0.0.1, port 0, in `root`. */
async function startPythonOrigin(root: string): Promise<{ port: number; child: ChildProcess }> {
  const child = spawn('python3', ['-u', '-m', 'http.server', '--bind', '127.0.0.1', '-p', 'HTTP/1.1', '0'], {
    cwd: root,
    stdio: ['ignore', 'pipe', 'ignore'],
  });
  // Its stdout is read to the end: closed early, python3 dies of a broken pipe mid-line.
  let said = '';
  const stdout = child.stdout as NodeJS.ReadableStream;
  const port = await new Promise<number>((resolve, reject) => {
    stdout.on('data', (chunk: Buffer) => {
      said += chunk.toString();
      const found = /port (\d+) \(/.exec(said)?.[1];
      if (found) resolve(Number(found));
    });
    child.once('exit', () => reject(new Error(`python3 http.server did not start: ${said}`)));
  });
  return { port, child };
}

const get = (port: number, path: string, extra = ''): string =>
  `GET http://127.0.0.1:${port}${path} HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\n${extra}\r\n`;

describe('HTTP proxying, several requests per connection', { timeout: 30_000 }, () => {
  let proxy: RunningProxy;
  let origin: Origin;
  before(async () => {
    proxy = await startProxy();
    origin = await startOrigin();
  });
  after(async () => {
    await proxy.stop();
    origin.close();
  });

  test('curl reuses one proxy connection for two URLs (python3 http.server as the origin)', {
    timeout: 8000,
  }, async () => {
    const dir = tempDir();
    writeFileSync(join(dir.path, 'one.txt'), 'first file\n');
    writeFileSync(join(dir.path, 'two.txt'), 'second file\n');
    const python = await startPythonOrigin(dir.path);
    try {
      const base = `http://127.0.0.1:${python.port}`;
      const result = await runProgram('curl', [
        '-sv',
        '--max-time',
        '5',
        '--proxy',
        `http://127.0.0.1:${proxy.url().port}`,
        `${base}/one.txt`,
        `${base}/two.txt`,
      ]);
      assert.equal(result.stdout.toString(), 'first file\nsecond file\n', result.stderr);
      assert.match(result.stderr, /Re-using existing connection/);
      const event = await proxy.nextEvent();
      assert.deepEqual([event.command, event.requests, event.outcome], ['forward', 2, 'ok']);
    } finally {
      python.child.kill('SIGTERM');
      dir.remove();
    }
  });

  test('pipelined requests with Content-Length and chunked bodies are delimited, answered in order, on one origin connection', {
    timeout: 5000,
  }, async () => {
    const before = origin.connections;
    const { port } = origin;
    const answer = await exchange(
      proxy.url('http').port,
      `POST http://127.0.0.1:${port}/a HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n\r\nhello` +
        `POST http://127.0.0.1:${port}/b HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n4;ext=1\r\nwiki\r\n5\r\npedia\r\n0\r\n\r\n` +
        get(port, '/c?q=1', 'Connection: close\r\n'),
    );
    const bodies = [...answer.matchAll(/(GET|POST) \S+ host=\S+ body=[a-z]*/g)].map((m) => m[0]);
    assert.deepEqual(bodies, [
      `POST /a host=127.0.0.1:${port} body=hello`,
      `POST /b host=127.0.0.1:${port} body=wikipedia`,
      `GET /c?q=1 host=127.0.0.1:${port} body=`,
    ]);
    assert.equal(origin.connections - before, 1, 'one origin connection for all three');
    assert.equal(answer.match(/HTTP\/1\.1 200 OK\r\n/g)?.length, 3);
    assert.match(answer.split('HTTP/1.1 200').at(-1) as string, /\r\nConnection: close\r\n/);
    assert.match(
      origin.seen.at(-1) as string,
      /connection=close$/,
      'the last request asked the origin to close',
    );
    const event = await proxy.nextEvent();
    assert.deepEqual([event.requests, event.outcome], [3, 'ok']);
  });

  test('a request to another origin opens a new origin connection', { timeout: 5000 }, async () => {
    const other = await startOrigin();
    try {
      const answer = await exchange(
        proxy.url('http').port,
        get(origin.port, '/1') + get(other.port, '/2') + get(other.port, '/3', 'Connection: close\r\n'),
      );
      assert.equal(answer.match(/HTTP\/1\.1 200 OK\r\n/g)?.length, 3, answer);
      assert.equal(other.connections, 1);
      const event = await proxy.nextEvent();
      assert.equal(event.destination, `127.0.0.1:${origin.port}, 127.0.0.1:${other.port}`);
    } finally {
      other.close();
    }
  });

  test('an HTTP/1.0 client gets one response and a close, as RFC 9112 §9.3.1 says', {
    timeout: 5000,
  }, async () => {
    const answer = await exchange(
      proxy.url('http').port,
      `GET http://127.0.0.1:${origin.port}/old HTTP/1.0\r\n\r\n${get(origin.port, '/never')}`,
    );
    assert.match(answer, /^HTTP\/1\.1 200 OK\r\n[\s\S]*Connection: close\r\n[\s\S]*GET \/old/);
    assert.doesNotMatch(answer, /never/);
    await proxy.nextEvent();
  });

  test('responses are relayed to their end: chunked with trailers, then one delimited by close', {
    timeout: 5000,
  }, async () => {
    const raw = await rawOrigin([
      'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nConnection: keep-alive\r\n\r\n3\r\nabc\r\n0\r\nX-T: 1\r\n\r\n',
      'HTTP/1.1 200 OK\r\n\r\nuntil the end',
    ]);
    try {
      const answer = await exchange(
        proxy.url('http').port,
        get(raw.port, '/chunked') + get(raw.port, '/close'),
      );
      assert.equal(
        answer,
        'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\nX-T: 1\r\n\r\n' +
          'HTTP/1.1 200 OK\r\nConnection: close\r\n\r\nuntil the end',
      );
      assert.equal((await proxy.nextEvent()).outcome, 'ok');
    } finally {
      raw.close();
    }
  });

  test('a kept origin connection that closes unanswered is retried once for a bodiless request, not for one with a body', {
    timeout: 5000,
  }, async () => {
    // Each connection answers its first request and closes at its second without a word, as an
    // origin whose keep-alive ran out just then does.
    const raw = await rawOrigin(['HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok', '']);
    try {
      const twice = await exchange(
        proxy.url('http').port,
        get(raw.port, '/1') + get(raw.port, '/2', 'Connection: close\r\n'),
      );
      assert.equal(twice.match(/HTTP\/1\.1 200 OK\r\n/g)?.length, 2, twice);
      assert.equal((await proxy.nextEvent()).outcome, 'ok');
      const post = `POST http://127.0.0.1:${raw.port}/p HTTP/1.1\r\nContent-Length: 1\r\n\r\nx`;
      const once = await exchange(proxy.url('http').port, get(raw.port, '/1') + post);
      assert.match(once, /HTTP\/1\.1 502 Bad Gateway\r\n/);
      assert.match((await proxy.nextEvent()).outcome, /^failed: the origin closed/);
    } finally {
      raw.close();
    }
  });

  test('an origin that answers before taking the body (417 to Expect: 100-continue) ends both connections', {
    timeout: 5000,
  }, async () => {
    const raw = await rawOrigin(['HTTP/1.1 417 Expectation Failed\r\nContent-Length: 0\r\n\r\n', '']);
    try {
      // The body is announced and never sent, as a client told "417" does.
      const answer = await exchange(
        proxy.url('http').port,
        `PUT http://127.0.0.1:${raw.port}/up HTTP/1.1\r\nExpect: 100-continue\r\nContent-Length: 10\r\n\r\n`,
      );
      assert.equal(answer, 'HTTP/1.1 417 Expectation Failed\r\nContent-Length: 0\r\n\r\n');
      assert.equal((await proxy.nextEvent()).outcome, 'ok');
    } finally {
      raw.close();
    }
  });

  test('an origin head past 16 KiB or a malformed one is answered 502', { timeout: 5000 }, async () => {
    for (const bad of [`HTTP/1.1 200 OK\r\n${'X: y\r\n'.repeat(4000)}\r\n`, 'SSH-2.0-OpenSSH\r\n\r\n']) {
      const raw = await rawOrigin([bad]);
      try {
        const answer = await exchange(proxy.url('http').port, get(raw.port, '/'));
        assert.match(answer, /^HTTP\/1\.1 502 Bad Gateway\r\n/);
        assert.match((await proxy.nextEvent()).outcome, /^failed: /);
      } finally {
        raw.close();
      }
    }
  });

  test('smuggling attempts are refused with 400, and what follows them never reaches the origin', {
    timeout: 8000,
  }, async () => {
    const { port } = origin;
    const target = `http://127.0.0.1:${port}/front`;
    const smuggled = `GET http://127.0.0.1:${port}/smuggled HTTP/1.1\r\n\r\n`;
    const attempts = [
      `POST ${target} HTTP/1.1\r\nContent-Length: 4\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n`,
      `POST ${target} HTTP/1.1\r\nTransfer-Encoding: chunked\r\nContent-Length: 40\r\n\r\n0\r\n\r\n`,
      `POST ${target} HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n`,
      `POST ${target} HTTP/1.1\r\nContent-Length: 0\r\nContent-Length: 60\r\n\r\n`,
      `POST ${target} HTTP/1.1\r\nTransfer-Encoding: chunked, chunked\r\n\r\n0\r\n\r\n`,
      `POST ${target} HTTP/1.1\r\nTransfer-Encoding: xchunked\r\n\r\n`,
      `POST ${target} HTTP/1.1\r\nTransfer-Encoding : chunked\r\n\r\n0\r\n\r\n`,
      `POST ${target} HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n3\nabc\r\n0\r\n\r\n`,
      `GET ${target} HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n`,
    ];
    for (const attempt of attempts) {
      const answer = await exchange(proxy.url('http').port, attempt + smuggled);
      assert.match(answer, /^HTTP\/1\.1 400 Bad Request\r\n/, attempt);
      assert.match((await proxy.nextEvent()).outcome, /^malformed: /, attempt);
    }
    assert.ok(!origin.seen.some((line) => line.includes('/smuggled')), origin.seen.join('\n'));
  });

  test("the origin gets the URL's authority as Host, not the client's", { timeout: 5000 }, async () => {
    const answer = await exchange(
      proxy.url('http').port,
      `GET http://127.0.0.1:${origin.port}/h HTTP/1.1\r\nHost: evil.test\r\nConnection: close\r\n\r\n`,
    );
    assert.match(answer, new RegExp(`GET /h host=127\\.0\\.0\\.1:${origin.port} `));
    await proxy.nextEvent();
  });

  test('a client that stops reading a large response and leaves takes the origin connection with it', {
    timeout: 8000,
  }, async () => {
    let originClosed: Promise<unknown> = Promise.resolve();
    const big = createHttpServer((_request, response) => {
      originClosed = once(response, 'close');
      const piece = Buffer.alloc(64 * 1024, 0x61);
      // 64 MiB, written only as fast as it is taken: nobody reads it all.
      let left = 1024;
      const more = (): void => {
        while (left > 0) {
          left -= 1;
          if (!response.write(piece)) return void response.once('drain', more);
        }
        response.end();
      };
      more();
    });
    await new Promise<void>((resolve) => big.listen(0, '127.0.0.1', resolve));
    try {
      const port = (big.address() as { port: number }).port;
      const socket = connect({ host: '127.0.0.1', port: proxy.url().port });
      socket.on('error', () => {});
      socket.write(get(port, '/big'));
      await once(socket, 'data');
      socket.pause();
      socket.destroy();
      await originClosed;
      const event = await proxy.nextEvent();
      assert.equal(event.outcome, 'ended: the client closed the connection mid-exchange');
      assert.ok(event.bytesDown < 64 * 1024 * 1024, `${event.bytesDown} bytes read from the origin`);
    } finally {
      big.close();
      big.closeAllConnections();
    }
  });

  test('a client silent after a response is closed quietly at the handshake timeout', {
    timeout: 5000,
  }, async () => {
    const quick = await startProxy({ handshakeTimeout: 300 });
    try {
      const socket = connect({ host: '127.0.0.1', port: quick.url().port });
      socket.on('error', () => {});
      socket.write(get(origin.port, '/idle'));
      const closed = once(socket, 'close');
      await once(socket, 'data');
      await closed;
      const event = await quick.nextEvent();
      assert.deepEqual([event.requests, event.outcome], [1, 'ok']);
      // One that starts a second request and stops half-way is dropped.
      const half = connect({ host: '127.0.0.1', port: quick.url().port });
      half.on('error', () => {});
      half.resume();
      half.write(`${get(origin.port, '/first')}GET http://127.0.0.1:${origin.port}/second HTT`);
      await once(half, 'close');
      assert.match((await quick.nextEvent()).outcome, /^dropped: no complete request within 300ms/);
    } finally {
      await quick.stop();
    }
  });
});
