import assert from 'node:assert/strict';
import { test } from 'node:test';
import { checkHost, checkSameOrigin } from '../../src/cli/commands/demo/same-origin.js';

const PORT = 41234;

test('the page itself may open the WebSocket, under any loopback name it was loaded from', () => {
  for (const host of [`127.0.0.1:${PORT}`, `localhost:${PORT}`, `[::1]:${PORT}`, `LOCALHOST:${PORT}`]) {
    const origin = `http://${host.toLowerCase()}`;
    assert.deepEqual(checkSameOrigin({ host, origin }, PORT), { allowed: true }, host);
  }
  assert.deepEqual(checkSameOrigin({ host: '127.0.0.1', origin: 'http://127.0.0.1' }, 80), { allowed: true });
});

test('a page of another origin, or no origin at all, is refused', () => {
  const host = `127.0.0.1:${PORT}`;
  const refused: Array<[string | undefined, RegExp]> = [
    ['http://evil.test', /^Origin "http:\/\/evil\.test" is not this page's \(http:\/\/127\.0\.0\.1:41234\)$/],
    [`http://127.0.0.1:${PORT + 1}`, /is not this page's/],
    [`https://127.0.0.1:${PORT}`, /is not this page's/],
    [`http://localhost:${PORT}`, /is not this page's/],
    ['null', /is not this page's/],
    ['', /is not this page's/],
    [undefined, /^no Origin header$/],
  ];
  for (const [origin, reason] of refused) {
    const verdict = checkSameOrigin({ host, origin }, PORT);
    assert.equal(verdict.allowed, false, String(origin));
    assert.match(verdict.allowed ? '' : verdict.reason, reason);
  }
});

test('a Host that is a name other than localhost (DNS rebinding) or another port is refused', () => {
  const cases: Array<[string | undefined, RegExp]> = [
    [`rebound.test:${PORT}`, /^Host "rebound\.test:41234" is a name other than localhost$/],
    [`127.0.0.1:${PORT + 1}`, /names another port$/],
    ['127.0.0.1', /names another port$/],
    [`127.0.0.1:${PORT}/path`, /^malformed Host/],
    [`user@127.0.0.1:${PORT}`, /^malformed Host/],
    ['[::1', /^malformed Host/],
    [undefined, /^no Host header$/],
  ];
  for (const [host, reason] of cases) {
    const verdict = checkHost({ host }, PORT);
    assert.equal(verdict.allowed, false, String(host));
    assert.match(verdict.allowed ? '' : verdict.reason, reason);
    // The same Host with its own Origin does not get through the WebSocket check either.
    assert.equal(checkSameOrigin({ host, origin: `http://${host}` }, PORT).allowed, false, String(host));
  }
});
