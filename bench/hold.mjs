// Opens COUNT idle TCP connections to HOST:PORT, prints "held COUNT" once all are open, and keeps
// them until stdin closes or SIGTERM. For the RSS-per-idle-connection measurement.
// Usage: node bench/hold.mjs HOST PORT COUNT
import net from 'node:net';

const [host, portText, countText] = process.argv.slice(2);
const port = Number(portText);
const count = Number(countText);
const sockets = [];
let open = 0;
const batch = 200;

function more() {
  const target = Math.min(count, sockets.length + batch);
  let pending = target - sockets.length;
  while (sockets.length < target) {
    const s = net.connect(port, host, () => {
      open += 1;
      if (--pending === 0) {
        if (open === count) process.stdout.write(`held ${open}\n`);
        else more();
      }
    });
    s.on('error', (err) => {
      console.error(`hold: ${err.message}`);
      process.exit(1);
    });
    sockets.push(s);
  }
}
more();
process.stdin.resume();
process.stdin.on('end', () => process.exit(0));
process.on('SIGTERM', () => process.exit(0));
