/**
 * scan given a host that no address could name: a usage error naming it, with no text of Node's
 * (an empty host reached the resolver, and Node printed a DeprecationWarning).
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { scan } from '../../src/scan/scan.js';
import { runCli } from '../helpers.js';

test('scan refuses an empty or malformed host as a usage error, with nothing of Node on stderr', {
  timeout: 10_000,
}, async () => {
  const hosts = ['', 'a b', '-'];
  const runs = await Promise.all(hosts.map((host) => runCli(['scan', host, '80'])));
  runs.forEach((run, i) => {
    const host = JSON.stringify(hosts[i]);
    assert.equal(run.code, 2, `${host}: ${run.stderr}`);
    assert.equal(run.stderr, `sockkit: scan: ${host} is not a host name or IP address\n`);
  });
});

test('the library rejects such a host with UsageError, before any lookup', { timeout: 5000 }, async () => {
  for (const host of ['', ' ', 'é.example'])
    await assert.rejects(scan(host, [80]), { name: 'UsageError', code: 'ERR_USAGE' });
  await assert.rejects(scan('bad host', [80]), {
    message: 'scan: "bad host" is not a host name or IP address',
  });
});

test('IP literals and names still scan', { timeout: 5000 }, async () => {
  for (const host of ['127.0.0.1', '::1', 'localhost']) {
    const run = await scan(host, [1], { timeout: 1000 });
    for await (const result of run) assert.notEqual(result.state, 'open');
  }
});
