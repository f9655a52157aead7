import assert from 'node:assert/strict';
import { test } from 'node:test';
import { quoteForLog } from '../../src/chat/quote-for-log.js';

test('quoteForLog quotes a client-chosen value, escapes what a terminal would act on, and cuts it short', () => {
  assert.equal(quoteForLog('http://a.test'), '"http://a.test"');
  assert.equal(quoteForLog('\u001b]52;c;x\u0007\u009b2J\u00e9'), '"\\u001b]52;c;x\\u0007\\u009b2J\\u00e9"');
  assert.equal(quoteForLog('a'.repeat(300)).length, 2 + 200 + 3);
});
