/** `sockkit relay A B`: two active endpoints joined both ways, run as a user runs it. */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { describe, test } from 'node:test';
import { sha256 } from '../bridge/peers.js';
import { runCli, startCli } from '../helpers.js';

describe('sockkit relay', () => {
  test('- and a server: stdin to the server, its answer to stdout, byte for byte', {
    timeout: 15_000,
  }, async () => {
    const echo = await startCli(['echo', 'tcp://127.0.0.1:0']);
    const data = randomBytes(1024 * 1024);
    const result = await runCli(['relay', '-', echo.urls[0] as string], { input: data });
    assert.equal(result.code, 0, result.stderr);
    assert.equal(sha256(result.stdout), sha256(data));
    await echo.stop();
  });

  test('a program and a server: the program speaks, half-closes, and reads the answer', {
    timeout: 15_000,
  }, async () => {
    const echo = await startCli(['echo', 'tcp://127.0.0.1:0']);
    const result = await runCli(['relay', 'sh:printf ping; exec 1>&-; cat >&2', echo.urls[0] as string]);
    assert.equal(result.code, 0, result.stderr);
    assert.equal(result.stderr, 'ping', "the program's stderr is sockkit's");
    await echo.stop();
  });

  test('two servers joined to each other', { timeout: 15_000 }, async () => {
    // One server greets and closes; the other (listen) prints what it gets.
    const printer = await startCli(['listen', 'tcp://127.0.0.1:0']);
    const greeter = await startCli(['listen', 'tcp://127.0.0.1:0', '--sh', 'printf "hello from a server"']);
    const result = await runCli(['relay', greeter.urls[0] as string, printer.urls[0] as string]);
    assert.equal(result.code, 0, result.stderr);
    const printed = await printer.done;
    assert.equal(printed.stdout.toString(), 'hello from a server');
    await greeter.done;
  });

  test('an endpoint that cannot be reached: one line, exit 1; - twice: usage, exit 2', {
    timeout: 15_000,
  }, async () => {
    const refused = await runCli(['relay', '-', 'unix:@sockkit-relay-nobody']);
    assert.equal(refused.code, 1);
    assert.match(refused.stderr, /^sockkit: connect unix:@sockkit-relay-nobody: .*\n$/);
    const twice = await runCli(['relay', '-', '-']);
    assert.equal(twice.code, 2);
    assert.equal(twice.stderr, 'sockkit: relay: - may be only one of the two endpoints\n');
  });
});
