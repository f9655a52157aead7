/**
 * A chat client as the broker sees it: the connection (a ChatPeer, whatever the transport) and
 * the client's state (nickname, room, flood control).
 */
import type { FloodControl } from './flood-control.js';

/** ChatPeer is one client's connection, as the broker sees it. */
export interface ChatPeer {
  /** Where the client is, for log lines: `tcp://127.0.0.1:53122`, `ws 127.0.0.1:53122`. */
  readonly label: string;
  /**
   * send queues one line for the client. It must not block, and must not queue without bound:
   * a transport disconnects a client whose queue is full (see serveChatLines).
   */
  send(line: string): void;
  /** close sends `farewell` (best effort) and ends the connection. */
  close(farewell?: string): void;
}

/** ChatClient is one connected client: its peer, its nickname and room, and its flood control. */
export class ChatClient {
  readonly peer: ChatPeer;
  nick: string;
  /** The room the client talks in, or undefined after `/part`. */
  room: string | undefined;
  readonly flood: FloodControl;
  /** True once the client has left; a client leaves once. */
  left = false;

  constructor(peer: ChatPeer, nick: string, flood: FloodControl) {
    this.peer = peer;
    this.nick = nick;
    this.flood = flood;
  }
}
