import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, lstatSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { parseAddress } from '../../src/address.js';
import { dial } from '../../src/stream/dial.js';
import { listen } from '../../src/stream/listen.js';
import { tempDir } from '../helpers.js';

const dir = tempDir();
after(() => dir.remove());

test('a stale socket file, left by a server that is gone, is replaced', async () => {
  const path = join(dir.path, 'stale.sock');
  // A process that binds and exits without unlinking, as a crashed server leaves its file.
  execFileSync('python3', ['-c', 'import socket,sys; socket.socket(socket.AF_UNIX).bind(sys.argv[1])', path]);
  assert.ok(existsSync(path), 'the stale file is there');
  const listener = await listen(parseAddress(`unix:${path}`));
  assert.ok(existsSync(path));
  await listener.close();
});

test('a socket file a live server holds is "address already in use"', async () => {
  const path = join(dir.path, 'live.sock');
  const first = await listen(parseAddress(`unix:${path}`));
  try {
    await assert.rejects(listen(parseAddress(`unix:${path}`)), {
      code: 'ERR_ADDRESS_IN_USE',
      message: `listen unix:${path}: address already in use (a server is accepting connections on it)`,
    });
  } finally {
    await first.close();
  }
});

test('a regular file in the way is not replaced', async () => {
  const path = join(dir.path, 'regular-file');
  writeFileSync(path, 'precious');
  await assert.rejects(listen(parseAddress(`unix:${path}`)), {
    code: 'ERR_ADDRESS_IN_USE',
    message: `listen unix:${path}: a regular file is in the way; it was left alone`,
  });
  assert.ok(existsSync(path));
});

test('a missing folder is named, as an address not available here', async () => {
  const path = join(dir.path, 'no-such-folder', 'x.sock');
  await assert.rejects(listen(parseAddress(`unix:${path}`)), {
    code: 'ERR_ADDRESS_NOT_AVAILABLE',
    message: `listen unix:${path}: no such directory: ${join(dir.path, 'no-such-folder')}`,
  });
});

test('a relative path is bound in the working directory', async () => {
  const name = `relative-${process.pid}.sock`;
  const cwd = process.cwd();
  process.chdir(dir.path);
  try {
    const listener = await listen(parseAddress(`unix:${name}`));
    assert.ok(existsSync(join(dir.path, name)));
    await listener.close();
  } finally {
    process.chdir(cwd);
  }
});

test('a relative path that reads as a number is a file, not a port', async () => {
  const cwd = process.cwd();
  process.chdir(dir.path);
  try {
    for (const name of ['123', '1e3', '0x10']) {
      const listener = await listen(parseAddress(`unix:${name}`));
      assert.ok(lstatSync(join(dir.path, name)).isSocket(), name);
      const accepted = listener.accept();
      const conn = await dial(parseAddress(`unix:${name}`));
      (await accepted).close();
      conn.close();
      await listener.close();
    }
  } finally {
    process.chdir(cwd);
  }
});

test('the socket file is removed when the listener closes', async () => {
  const path = join(dir.path, 'removed.sock');
  const listener = await listen(parseAddress(`unix:${path}`));
  assert.ok(existsSync(path));
  await listener.close();
  assert.equal(existsSync(path), false);
});

test('an abstract name leaves no file and is in use while held', async () => {
  const name = `sockkit-abstract-${process.pid}`;
  const first = await listen(parseAddress(`unix:@${name}`));
  await assert.rejects(listen(parseAddress(`unix:@${name}`)), { code: 'ERR_ADDRESS_IN_USE' });
  await first.close();
  const again = await listen(parseAddress(`unix:@${name}`));
  await again.close();
});
