import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { xorshift } from '../../src/bench/payload.js';
import { RequestTemplate, splitRequestLines, unescapeBytes } from '../../src/bench/request-template.js';

describe('unescapeBytes', () => {
  test('turns the escapes of the command line into bytes', () => {
    assert.deepEqual(unescapeBytes('PING\\r\\n'), Buffer.from('PING\r\n'));
    assert.deepEqual(
      unescapeBytes('\\x00\\x05hello\\t\\0\\\\'),
      Buffer.from([0, 5, ...Buffer.from('hello'), 9, 0, 0x5c]),
    );
    assert.deepEqual(unescapeBytes('é'), Buffer.from('é', 'utf8'));
  });

  test('refuses an unknown escape and a short \\x', () => {
    assert.throws(() => unescapeBytes('a\\qb'), /unknown escape "\\q"/);
    assert.throws(() => unescapeBytes('\\x4'), /unknown escape "\\x"/);
    assert.throws(() => unescapeBytes('end\\'), /unknown escape/);
  });
});

describe('RequestTemplate', () => {
  const random = xorshift(1);
  test('a template without substitutions renders the same Buffer every time', () => {
    const template = new RequestTemplate(Buffer.from('{"a":{}}\r\n'));
    assert.equal(template.render(0, 0, random), template.render(5, 9, random));
    assert.equal(template.render(1, 1, random).toString(), '{"a":{}}\r\n');
  });

  test('substitutes the connection, the sequence number and random values', () => {
    const template = new RequestTemplate(Buffer.from('SET k:{conn}:{seq} {rand:10} {seq:3}\r\n'));
    const text = template.render(7, 42, random).toString();
    assert.match(text, /^SET k:7:42 [0-9] \{seq:3\}\r\n$/);
    const values = new Set<string>();
    for (let i = 0; i < 200; i += 1)
      values.add(new RequestTemplate(Buffer.from('{rand:4}')).render(0, i, random).toString());
    assert.deepEqual([...values].sort(), ['0', '1', '2', '3']);
  });

  test('refuses {rand} where the bytes must be known (an expected reply)', () => {
    assert.throws(() => new RequestTemplate(Buffer.from('v{rand}'), false), /cannot be random/);
    assert.throws(() => new RequestTemplate(Buffer.from('{rand:0}')), /N must be/);
  });
});

describe('splitRequestLines', () => {
  test('reads one request per line, LF or CRLF, blank lines skipped, escapes understood', () => {
    const lines = splitRequestLines('SET a 1\\r\\n\r\n\nGET a\\r\\n\n');
    assert.deepEqual(lines, [Buffer.from('SET a 1\r\n'), Buffer.from('GET a\r\n')]);
  });

  test('names the line of a bad escape', () => {
    assert.throws(() => splitRequestLines('ok\n\nbad \\q\n'), /line 3: unknown escape/);
  });
});
