// sockkit's echo service through the library alone (listen + serve + echoStream), without the
// CLI's connection guard: isolates what the library costs per connection.
// Usage: node bench/library-echo.mjs PORT
import { echoStream, listen, parseAddress, serve } from '../dist/src/index.js';

const controller = new AbortController();
const listener = await listen(parseAddress(`tcp://127.0.0.1:${process.argv[2]}`), {
  signal: controller.signal,
});
const served = serve([listener], echoStream, { signal: controller.signal, grace: 1000 });
process.on('SIGTERM', () => controller.abort());
await served;
