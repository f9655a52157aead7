import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { formatEndpoint, parseEndpoint, programOf } from '../../src/bridge/endpoint.js';

describe('parseEndpoint', () => {
  test('reads - as stdin and stdout', () => {
    assert.deepEqual(parseEndpoint('-'), { kind: 'stdio' });
  });

  test('reads exec: as a program run directly, its words split as a shell would', () => {
    assert.deepEqual(parseEndpoint(`exec:grep -v 'a b'`), {
      kind: 'program',
      program: { file: 'grep', args: ['-v', 'a b'], command: `grep -v 'a b'`, shell: false },
    });
  });

  test('reads sh: as /bin/sh -c with the command untouched', () => {
    assert.deepEqual(parseEndpoint('sh:wc -c | tr -d " "'), {
      kind: 'program',
      program: {
        file: '/bin/sh',
        args: ['-c', 'wc -c | tr -d " "'],
        command: 'wc -c | tr -d " "',
        shell: true,
      },
    });
  });

  test('reads anything else as a socket URL', () => {
    assert.deepEqual(parseEndpoint('tcp://[::1]:7'), {
      kind: 'socket',
      address: { scheme: 'tcp', host: '::1', port: 7 },
    });
    assert.deepEqual(parseEndpoint('unix:/tmp/x.sock'), {
      kind: 'socket',
      address: { scheme: 'unix', path: '/tmp/x.sock', abstract: false },
    });
  });

  test('an empty program, an unclosed quote or a bad URL is a usage error', () => {
    assert.throws(() => parseEndpoint('exec:'), {
      name: 'UsageError',
      message: 'exec: no command given after exec:',
    });
    assert.throws(() => parseEndpoint('sh:  '), {
      name: 'UsageError',
      message: 'sh: no command given after sh:',
    });
    assert.throws(() => parseEndpoint(`exec:'' x`), { name: 'UsageError', message: /no program named/ });
    assert.throws(() => parseEndpoint(`exec:echo 'x`), { name: 'UsageError', message: /unclosed '/ });
    assert.throws(() => parseEndpoint('tcp://127.0.0.1'), { name: 'AddressError', message: /missing port/ });
  });

  test('formatEndpoint writes back what parseEndpoint reads', () => {
    for (const text of ['-', `exec:grep -v 'a b'`, 'sh:wc -c', 'tcp://127.0.0.1:7', 'unix:@name'])
      assert.equal(formatEndpoint(parseEndpoint(text)), text);
  });

  test('programOf builds the same Program the endpoint forms give', () => {
    assert.deepEqual(programOf('cat -n', false), {
      file: 'cat',
      args: ['-n'],
      command: 'cat -n',
      shell: false,
    });
  });
});
