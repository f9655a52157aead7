/**
 * Preloaded with `node --import` to make the `raw-socket` addon look missing, as on a machine
 * where it could not be built: every attempt to import it fails as a missing module would.
 */
import { register } from 'node:module';

// register() blocks until the hooks module is loaded and its resolve hook is in the chain (the
// hooks thread answers a synchronous request), so every import after this line sees it.
register(new URL('./hide-raw-socket-hooks.js', import.meta.url));

// Checked, not assumed: if the addon still resolves, say so here rather than let a ping succeed.
let resolved: string | undefined;
try {
  resolved = import.meta.resolve('raw-socket');
} catch {
  // hidden, as intended
}
if (resolved !== undefined) throw new Error(`hide-raw-socket: raw-socket still resolves to ${resolved}`);
