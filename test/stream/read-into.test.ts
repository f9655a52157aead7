import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { type AddressInfo, connect, createServer, type Server, type Socket } from 'node:net';
import { test } from 'node:test';
import { MAX_READ, MIN_READ, readInto, readIntoHeld } from '../../src/stream/read-into.js';

/** echoServer echoes with readInto, pausing while the socket's buffer is full, as echoStream does. */
function echoServer(engaged: boolean[], onPause: () => void = () => {}): Promise<Server> {
  const server = createServer({ allowHalfOpen: true }, (socket) => {
    socket.on('error', () => {});
    socket.once('end', () => socket.end());
    engaged.push(
      readInto(socket, (chunk, from) => {
        assert.equal(from, socket, 'the handler is given the socket it reads');
        if (!socket.write(chunk)) {
          socket.pause();
          onPause();
          socket.once('drain', () => socket.resume());
        }
      }),
    );
  });
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve(server)));
}

function readAll(socket: Socket): Promise<Buffer> {
  const chunks: Buffer[] = [];
  socket.on('data', (chunk: Buffer) => chunks.push(chunk));
  return new Promise((resolve, reject) => {
    socket.on('end', () => resolve(Buffer.concat(chunks)));
    socket.on('error', reject);
  });
}

test('echoes 8 MiB intact through a client that reads nothing until it has sent everything', async () => {
  const engaged: boolean[] = [];
  let serverPaused = (): void => {};
  const paused = new Promise<void>((resolve) => {
    serverPaused = resolve;
  });
  const server = await echoServer(engaged, () => serverPaused());
  const { port } = server.address() as AddressInfo;
  const data = randomBytes(8 << 20);
  const client = connect({ port, host: '127.0.0.1', allowHalfOpen: true });
  client.pause(); // the server's writes back fill up and stay queued, holding its read buffers
  client.end(data);
  await paused; // the server has writes left pending, and has stopped reading
  const echoed = readAll(client);
  client.resume();
  const got = await echoed;
  server.close();
  assert.deepEqual(engaged, [true]);
  assert.equal(got.length, data.length);
  assert.ok(got.equals(data), 'every byte comes back, in order');
});

test('keeps many connections apart when their reads interleave', async () => {
  const engaged: boolean[] = [];
  const server = await echoServer(engaged);
  const { port } = server.address() as AddressInfo;
  const runs = Array.from({ length: 20 }, async (_, i) => {
    const data = randomBytes(64 * 1024 + i * 977);
    const client = connect({ port, host: '127.0.0.1', allowHalfOpen: true });
    const echoed = readAll(client);
    for (let at = 0; at < data.length; at += 1500) client.write(data.subarray(at, at + 1500));
    client.end();
    assert.ok((await echoed).equals(data), `connection ${i}`);
  });
  await Promise.all(runs);
  server.close();
  assert.equal(engaged.length, 20);
  assert.ok(engaged.every(Boolean));
});

test('declines a socket that has already read data, leaving it to data events', async () => {
  let declined: boolean | undefined;
  const server = createServer((socket) => {
    socket.once('data', (first) => {
      declined = !readInto(socket, () => {});
      socket.end(first);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const client = connect((server.address() as AddressInfo).port, '127.0.0.1');
  const echoed = readAll(client);
  client.write('hello');
  assert.equal((await echoed).toString(), 'hello');
  server.close();
  assert.equal(declined, true);
  assert.ok(MIN_READ < MAX_READ);
});

test('readIntoHeld holds at most a bounded read of a peer that floods before release, then hands every byte over in order', {
  timeout: 10_000,
}, async () => {
  const data = randomBytes(4 << 20);
  let heldSocket: Socket | undefined;
  const accepted = new Promise<ReturnType<typeof readIntoHeld>>((resolve) => {
    const server = createServer({ allowHalfOpen: true }, (socket) => {
      heldSocket = socket;
      server.close();
      resolve(readIntoHeld(socket));
    });
    server.listen(0, '127.0.0.1', () => {
      const client = connect({ port: (server.address() as AddressInfo).port, host: '127.0.0.1' });
      client.end(data);
    });
  });
  const held = await accepted;
  assert.ok(held && heldSocket, 'a plain TCP socket is read with readInto');
  const socket = heldSocket;
  await new Promise((resolve) => socket.once('pause', resolve));
  assert.ok(socket.bytesRead >= MAX_READ, 'it reads until MAX_READ bytes are held');
  assert.ok(
    socket.bytesRead < 2 * MAX_READ,
    `then stops (read ${socket.bytesRead}): the kernel holds the rest`,
  );
  const chunks: Buffer[] = [];
  const ended = new Promise((resolve) => socket.once('end', resolve));
  held.release((chunk) => {
    chunks.push(Buffer.from(chunk));
  });
  await ended;
  socket.destroy();
  assert.ok(Buffer.concat(chunks).equals(data), 'the held bytes first, then the rest, in order');
});
