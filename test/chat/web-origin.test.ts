import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { ANY_ORIGIN, normalizeOrigin, OriginPolicy } from '../../src/chat/web-origin.js';

describe('normalizeOrigin', () => {
  test('writes an origin as a browser does in the Origin header', () => {
    assert.equal(normalizeOrigin('http://Chat.Example:8080'), 'http://chat.example:8080');
    assert.equal(normalizeOrigin('https://chat.example:443/'), 'https://chat.example');
    assert.equal(normalizeOrigin('http://[::1]:80'), 'http://[::1]');
    assert.equal(normalizeOrigin(ANY_ORIGIN), '*');
  });

  test('throws TypeError for anything but an http(s) origin or *', () => {
    for (const bad of [
      '',
      'x',
      'null',
      'ftp://x',
      'http://x/path',
      'http://x?',
      'http://x#',
      'http://u:p@x',
      '**',
    ]) {
      assert.throws(() => normalizeOrigin(bad), {
        name: 'TypeError',
        message: /^invalid origin ".*": expected http:\/\/HOST\[:PORT\], https:\/\/HOST\[:PORT\] or \*$/,
      });
    }
    assert.throws(() => new OriginPolicy(['https://ok.example', 'nope']), TypeError);
  });
});
