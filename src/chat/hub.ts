/**
 * Hub is what brokers share: who is connected and in which room (the directory), and the events
 * every broker must see (the bus). One broker alone uses MemoryHub; several use RedisHub.
 */

/** ChatEvent is one thing that happened, published to every broker. */
export type ChatEvent =
  | { readonly kind: 'say'; readonly room: string; readonly from: string; readonly text: string }
  | { readonly kind: 'join'; readonly room: string; readonly nick: string }
  | { readonly kind: 'part'; readonly room: string; readonly nick: string; readonly reason: string }
  | { readonly kind: 'rename'; readonly room: string; readonly from: string; readonly to: string }
  | { readonly kind: 'private'; readonly from: string; readonly to: string; readonly text: string };

/** RoomInfo is one room in `/list`. */
export interface RoomInfo {
  readonly room: string;
  readonly members: number;
}

/**
 * Hub connects brokers. `publish` delivers an event to every subscriber (this broker included),
 * in publishing order for any one publisher. The directory methods keep nicknames unique and
 * room memberships countable across every broker sharing the hub.
 */
export interface Hub {
  /** publish sends `event` to every broker's `subscribe` handler, this one's included. */
  publish(event: ChatEvent): Promise<void>;
  /** subscribe sets the handler for every event published on the hub. */
  subscribe(handler: (event: ChatEvent) => void): Promise<void>;
  /** claimNick reserves `nick` and resolves true, or false when someone already has it. Case-insensitive. */
  claimNick(nick: string): Promise<boolean>;
  /** releaseNick frees `nick` for others. */
  releaseNick(nick: string): Promise<void>;
  /** hasNick tells whether someone has `nick`. */
  hasNick(nick: string): Promise<boolean>;
  /** enterRoom records `nick` as a member of `room`. */
  enterRoom(room: string, nick: string): Promise<void>;
  /** leaveRoom records that `nick` left `room`. */
  leaveRoom(room: string, nick: string): Promise<void>;
  /** members lists the nicks in `room`, sorted. */
  members(room: string): Promise<string[]>;
  /** rooms lists every room with at least one member, sorted by name. */
  rooms(): Promise<RoomInfo[]>;
  /** close releases the hub's connections; a broker calls it once, at shutdown. */
  close(): Promise<void>;
}

/**
 * MemoryHub keeps everything in this process: the default, for a single broker. Publishing is
 * synchronous, so events reach the handler in the order they were published.
 */
export class MemoryHub implements Hub {
  readonly #nicks = new Set<string>();
  readonly #rooms = new Map<string, Set<string>>();
  #handler: ((event: ChatEvent) => void) | undefined;

  async publish(event: ChatEvent): Promise<void> {
    this.#handler?.(event);
  }

  async subscribe(handler: (event: ChatEvent) => void): Promise<void> {
    this.#handler = handler;
  }

  async claimNick(nick: string): Promise<boolean> {
    const key = nick.toLowerCase();
    if (this.#nicks.has(key)) return false;
    this.#nicks.add(key);
    return true;
  }

  async releaseNick(nick: string): Promise<void> {
    this.#nicks.delete(nick.toLowerCase());
  }

  async hasNick(nick: string): Promise<boolean> {
    return this.#nicks.has(nick.toLowerCase());
  }

  async enterRoom(room: string, nick: string): Promise<void> {
    const members = this.#rooms.get(room) ?? new Set<string>();
    this.#rooms.set(room, members);
    members.add(nick);
  }

  async leaveRoom(room: string, nick: string): Promise<void> {
    const members = this.#rooms.get(room);
    members?.delete(nick);
    if (members?.size === 0) this.#rooms.delete(room);
  }

  async members(room: string): Promise<string[]> {
    return [...(this.#rooms.get(room) ?? [])].sort();
  }

  async rooms(): Promise<RoomInfo[]> {
    return [...this.#rooms]
      .map(([room, members]) => ({ room, members: members.size }))
      .sort((a, b) => a.room.localeCompare(b.room));
  }

  async close(): Promise<void> {
    this.#handler = undefined;
  }
}
