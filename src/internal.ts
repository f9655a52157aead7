/**
 * Names the library's own modules use to reach into each other's objects, and nobody else:
 * they are symbols that src/index.ts does not export, so a library user cannot call them.
 *
 * - `traceStep`: a Conn's or PacketConn's report of a step to its tracer (`--trace`).
 * - `deliver`: a Listener's hand-over of a connection it accepted.
 */
export const traceStep: unique symbol = Symbol('sockkit.traceStep');
export const deliver: unique symbol = Symbol('sockkit.deliver');
