/** AdmissionRules decide on a peer by its address and by the counts they keep: no socket needed. */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { AccessRules, parseCidr } from '../../src/security/access.js';
import { AdmissionRules } from '../../src/security/admission-rules.js';

describe('AdmissionRules', () => {
  test('maxConnections counts every peer, Unix peers (no address) too, and a released one frees its slot', () => {
    const rules = new AdmissionRules({ maxConnections: 2 });
    assert.equal(rules.admit('10.0.0.1'), undefined);
    assert.equal(rules.admit(undefined), undefined);
    assert.deepEqual(rules.admit('10.0.0.2'), {
      limit: 'max-connections',
      detail: 'refused: 2 connections open',
      option: { name: 'maxConnections', value: 2 },
    });
    rules.release(undefined);
    assert.equal(rules.open, 1);
    assert.equal(rules.admit('10.0.0.2'), undefined);
  });

  test('maxPerIp counts each address apart; a peer with no address is not counted by it', () => {
    const rules = new AdmissionRules({ maxPerIp: 1 });
    assert.equal(rules.admit('10.0.0.1'), undefined);
    assert.equal(rules.admit('10.0.0.2'), undefined);
    assert.equal(rules.admit(undefined), undefined);
    assert.deepEqual(rules.admit('10.0.0.1'), {
      limit: 'max-per-ip',
      detail: 'refused: 1 connection open from 10.0.0.1',
      option: { name: 'maxPerIp', value: 1 },
    });
    rules.release('10.0.0.1');
    assert.equal(rules.admit('10.0.0.1'), undefined);
  });

  test('access is judged first, and a refused peer is not counted', () => {
    const rules = new AdmissionRules({
      maxConnections: 1,
      access: new AccessRules([], [parseCidr('10.9.0.0/16')]),
    });
    assert.deepEqual(rules.admit('10.9.0.1'), {
      limit: 'access',
      detail: 'refused: 10.9.0.1 is not allowed',
      option: { name: 'access' },
    });
    assert.equal(rules.open, 0);
    assert.equal(rules.admit('10.0.0.1'), undefined);
  });

  test('without a count limit nothing is counted, and no address is needed without access or maxPerIp', () => {
    const rules = new AdmissionRules({});
    assert.equal(rules.counts, false);
    assert.equal(rules.needsAddress, false);
    assert.equal(rules.admit('10.0.0.1'), undefined);
    assert.equal(rules.open, 0);
    assert.equal(new AdmissionRules({ maxPerIp: 1 }).needsAddress, true);
  });
});
