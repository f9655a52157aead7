import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { UsageError } from '../../src/errors.js';
import { DestinationRules, parseDestinationRule } from '../../src/proxy/destination-rules.js';

const rules = (allow: string[], deny: string[] = []): DestinationRules =>
  new DestinationRules(
    allow.map((r) => parseDestinationRule(r)),
    deny.map((r) => parseDestinationRule(r)),
  );

describe('destination rules', () => {
  test('read networks, bracketed IPv6, names, subdomains, any host, and port lists', () => {
    assert.deepEqual(parseDestinationRule('198.51.100.0/24:80,443,8000-8100'), {
      kind: 'network',
      network: '198.51.100.0',
      prefix: 24,
      family: 4,
      ports: [
        { from: 80, to: 80 },
        { from: 443, to: 443 },
        { from: 8000, to: 8100 },
      ],
      text: '198.51.100.0/24:80,443,8000-8100',
    });
    assert.equal(parseDestinationRule('[2001:db8::/32]:443').kind, 'network');
    assert.equal(parseDestinationRule('2001:db8::1').kind, 'network');
    assert.deepEqual(parseDestinationRule('*.Example.TEST'), {
      kind: 'name',
      name: 'example.test',
      subdomains: true,
      exact: false,
      ports: [],
      text: '*.Example.TEST',
    });
    assert.equal(parseDestinationRule('*:25').kind, 'any');
  });

  test('refuse a malformed rule with a usage error naming the flag', () => {
    for (const text of ['10.0.0.0/40', 'example.test:99999', 'example.test:90-80', 'bad name!', '1.2.3']) {
      assert.throws(
        () => parseDestinationRule(text, '--deny-dest'),
        (err: unknown) =>
          err instanceof UsageError && err.code === 'ERR_USAGE' && err.message.startsWith('--deny-dest'),
        text,
      );
    }
  });

  test('deny wins over allow, and ports narrow a rule', () => {
    const judge = rules(['127.0.0.0/8'], ['127.0.0.1:25']);
    assert.deepEqual(judge.judge('127.0.0.1', 25, ['127.0.0.1']), {
      allowed: false,
      reason: 'destination denied by rule 127.0.0.1:25',
    });
    assert.deepEqual(judge.judge('127.0.0.1', 80, ['127.0.0.1']), { allowed: true });
    assert.deepEqual(judge.judge('192.0.2.1', 80, ['192.0.2.1']), {
      allowed: false,
      reason: 'destination not covered by any allow rule',
    });
  });

  test('a name is judged by what it resolves to: one denied address denies it', () => {
    const judge = rules([], ['198.51.100.0/24']);
    assert.equal(judge.judge('sneaky.example.test', 80, ['192.0.2.7', '198.51.100.9']).allowed, false);
    assert.equal(judge.judge('fine.example.test', 80, ['192.0.2.7']).allowed, true);
  });

  test('names: exact, subdomains only, or both; an allow by network needs every address', () => {
    const exact = rules(['example.test']);
    assert.equal(exact.judge('example.test', 1, []).allowed, true);
    assert.equal(exact.judge('www.example.test', 1, []).allowed, false);
    const subdomains = rules(['*.example.test']);
    assert.equal(subdomains.judge('www.example.test', 1, []).allowed, true);
    assert.equal(subdomains.judge('example.test', 1, []).allowed, false);
    const both = rules(['.example.test']);
    assert.equal(both.judge('example.test', 1, []).allowed, true);
    assert.equal(both.judge('a.b.example.test', 1, []).allowed, true);
    assert.equal(both.judge('badexample.test', 1, []).allowed, false);
    const network = rules(['192.0.2.0/24']);
    assert.equal(network.judge('two.example.test', 1, ['192.0.2.1', '198.51.100.1']).allowed, false);
    assert.equal(
      network.judge('two.example.test', 1, []).allowed,
      false,
      'unresolved: no network rule can allow it',
    );
  });

  test('an IPv4-mapped IPv6 address is judged as the IPv4 address it carries', () => {
    assert.equal(rules([], ['127.0.0.0/8']).judge('::ffff:127.0.0.1', 80, []).allowed, false);
  });
});
