// The bare Node echo servers the suite compares sockkit against: the introduction's example,
// written the obvious way, with nothing sockkit adds (no half-close handling, no backpressure,
// no limits, no tracing). Usage: node bench/naive-echo.mjs tcp|udp|tls PORT [CERT KEY]
import dgram from 'node:dgram';
import { readFileSync } from 'node:fs';
import net from 'node:net';
import tls from 'node:tls';

const [kind, portText, cert, key] = process.argv.slice(2);
const port = Number(portText);
const echo = (c) => {
  c.setNoDelay(true);
  c.on('data', (d) => c.write(d));
  c.on('error', () => {});
};
if (kind === 'tcp') net.createServer(echo).listen(port, '127.0.0.1');
else if (kind === 'tls') {
  tls.createServer({ cert: readFileSync(cert), key: readFileSync(key) }, echo).listen(port, '127.0.0.1');
} else if (kind === 'udp') {
  const socket = dgram.createSocket('udp4');
  socket.on('message', (m, r) => socket.send(m, r.port, r.address));
  socket.bind(port, '127.0.0.1');
} else {
  console.error('usage: naive-echo.mjs tcp|udp|tls PORT [CERT KEY]');
  process.exit(2);
}
