import assert from 'node:assert/strict';
import { test } from 'node:test';
import { printable } from '../../src/chat/printable.js';

test('printable quotes a client-chosen value, escapes what a terminal would act on, and cuts it short', () => {
  assert.equal(printable('http://a.test'), '"http://a.test"');
  assert.equal(printable('\u001b]52;c;x\u0007\u009b2J\u00e9'), '"\\u001b]52;c;x\\u0007\\u009b2J\\u00e9"');
  assert.equal(printable('a'.repeat(300)).length, 2 + 200 + 3);
});
