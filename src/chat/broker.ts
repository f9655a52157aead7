/**
 * Broker runs a chat: nicknames, rooms, commands, and the delivery of every line to the clients
 * it concerns. It knows nothing of sockets: each client is a ChatPeer (a TCP or Unix line stream,
 * a WebSocket), so every transport gets the same rules. What brokers share goes through a Hub.
 *
 * Two text rules hold at this one place, whatever the transport. Every name that enters (a
 * client's first nick, `/nick`, `/join`, `/who`, `/msg`, and the names in what the hub carries
 * from other brokers) is checked here, with the same refusal. And every line that leaves (to a
 * client, or to the log) goes through `printable`: no control character but TAB reaches a
 * client's terminal, whoever sent it.
 */
import { ChatClient, type ChatPeer } from './chat-client.js';
import {
  type ChatCommand,
  HELP_TEXT,
  isValidNick,
  isValidRoom,
  nickRefusal,
  normalizeRoom,
  parseCommand,
  printable,
  roomRefusal,
} from './commands.js';
import { FloodControl } from './flood-control.js';
import { type ChatEvent, type Hub, MemoryHub } from './hub.js';

/** BrokerOptions tune a Broker. Every field is optional. */
export interface BrokerOptions {
  /** Where brokers share state; a MemoryHub (this process only) by default. */
  readonly hub?: Hub | undefined;
  /** The room every client starts in (its `#` may be left out). Default `#lobby`. */
  readonly room?: string | undefined;
  /** Clients this broker accepts at once; the next one is told the server is full. Default 1000. */
  readonly maxClients?: number | undefined;
  /** Lines per second a client may send on average (0: no limit). Default 10. */
  readonly floodRate?: number | undefined;
  /** Lines a client may send at once before the rate applies. Default 20. */
  readonly floodBurst?: number | undefined;
  /**
   * Receives one line per client arriving or leaving (with the reason), per event refused from the
   * hub, and per session ended by an internal error, for a server's log. Lines are printable (no
   * control characters); a log that throws is ignored.
   */
  readonly log?: ((line: string) => void) | undefined;
}

/** BrokerStats counts what a broker did. */
export interface BrokerStats {
  connections: number;
  /** Clients turned away because the broker was full. */
  rejected: number;
  /** Messages clients sent to rooms. */
  messages: number;
  /** Lines delivered to this broker's clients. */
  delivered: number;
}

/**
 * Broker accepts chat clients and runs their commands. Create it with `Broker.start`, hand it
 * each client with `connect`, each line with `handle`, and each departure with `disconnect`.
 * A client's mistakes (a bad command, a taken nick) are answered with a `* ...` line, never thrown.
 */
export class Broker {
  readonly hub: Hub;
  readonly room: string;
  readonly maxClients: number;
  readonly stats: BrokerStats = { connections: 0, rejected: 0, messages: 0, delivered: 0 };
  readonly #floodRate: number;
  readonly #floodBurst: number;
  readonly #log: ((line: string) => void) | undefined;
  readonly #clients = new Set<ChatClient>();
  readonly #byNick = new Map<string, ChatClient>();
  readonly #rooms = new Map<string, Set<ChatClient>>();
  #guests = 0;
  #closing: Promise<void> | undefined;

  private constructor(options: BrokerOptions) {
    const room = normalizeRoom(options.room ?? '#lobby');
    if (!room) throw new RangeError(`room: ${roomRefusal(options.room ?? '')}`);
    this.hub = options.hub ?? new MemoryHub();
    this.room = room;
    this.maxClients = options.maxClients ?? 1000;
    this.#floodRate = options.floodRate ?? 10;
    this.#floodBurst = options.floodBurst ?? 20;
    const log = options.log;
    this.#log =
      log &&
      ((line) => {
        try {
          log(printable(line));
        } catch {
          // A log that fails must not fail the chat.
        }
      });
    new FloodControl(this.#floodRate, this.#floodBurst); // validates the options now, not per client
  }

  /**
   * start creates a broker and subscribes it to its hub's events. Throws RangeError for bad limits
   * or an invalid room name.
   */
  static async start(options: BrokerOptions = {}): Promise<Broker> {
    const broker = new Broker(options);
    // A hub carries what other brokers published (or anyone with access to the Redis channel):
    // the event is checked here before it is trusted, whatever its declared type.
    await broker.hub.subscribe((event: unknown) => broker.#receive(event));
    return broker;
  }

  /** clients is the number of clients connected to this broker. */
  get clients(): number {
    return this.#clients.size;
  }

  /**
   * connect admits a client, with `nick` if it is valid and free (otherwise a guest name, and the
   * client is told why: the refusal `/nick` gives), puts it in the default room and announces it.
   * An empty `nick` counts as none. When the broker is full it closes the peer with a reason and
   * resolves undefined.
   */
  async connect(peer: ChatPeer, nick?: string): Promise<ChatClient | undefined> {
    if (this.#clients.size >= this.maxClients) {
      this.stats.rejected += 1;
      this.#log?.(`${peer.label} turned away: server full (${this.maxClients} clients)`);
      peer.close(`* server full (${this.maxClients} clients); try again later`);
      return undefined;
    }
    const asked = nick || undefined;
    const refusal = asked === undefined ? undefined : nickRefusal(asked);
    let wanted: string | undefined;
    let given: string;
    try {
      wanted = asked !== undefined && !refusal && (await this.hub.claimNick(asked)) ? asked : undefined;
      given = wanted ?? (await this.#guestNick());
    } catch (err) {
      this.#log?.(`${peer.label} turned away: ${reasonOf(err)}`);
      peer.close(printable(`* error: the chat is unavailable (${reasonOf(err)})`));
      return undefined;
    }
    const client = new ChatClient(peer, given, new FloodControl(this.#floodRate, this.#floodBurst));
    this.#clients.add(client);
    this.#byNick.set(client.nick.toLowerCase(), client);
    this.stats.connections += 1;
    this.#log?.(`${client.nick} connected from ${peer.label}`);
    if (refusal) this.#tell(client, `* ${refusal}; you are ${client.nick}`);
    else if (asked !== undefined && !wanted)
      this.#tell(client, `* nick ${asked} is taken; you are ${client.nick}`);
    this.#tell(client, `* welcome, ${client.nick}! /help lists the commands`);
    try {
      await this.#enter(client, this.room);
    } catch (err) {
      this.#tell(client, `* error: ${reasonOf(err)}`);
    }
    return client;
  }

  /**
   * handle runs one line from `client`: a message for its room or a command. It resolves
   * `quit` when the client asked to leave (the caller then closes its connection).
   */
  async handle(client: ChatClient, line: string): Promise<'quit' | undefined> {
    if (client.left) return 'quit';
    try {
      return await this.#run(client, parseCommand(line));
    } catch (err) {
      // The hub failed (Redis unreachable): tell the client; the connection itself is fine.
      this.#tell(client, `* error: ${reasonOf(err)}; try again`);
      return undefined;
    }
  }

  /**
   * log writes `line` to the broker's log (BrokerOptions.log), if it has one, in its printable
   * form: for a transport's own events, such as a connection that failed before it was a client.
   */
  log(line: string): void {
    this.#log?.(line);
  }

  /** disconnect removes `client` and tells its room why it left. Calling it again does nothing. */
  disconnect(client: ChatClient, reason: string): Promise<void> {
    return this.#leave(client, reason);
  }

  /**
   * fail ends `client`'s session after an internal error (a transport that threw, a bug): the last
   * line of defence of a session. It closes the peer with `* error: internal error; closing`,
   * tells the room the client left (`internal error`), and logs one line with the cause; the
   * other clients carry on. It never throws; for a client that already left it does nothing.
   */
  fail(client: ChatClient, err: unknown): void {
    if (client.left) return;
    try {
      client.peer.close('* error: internal error; closing');
    } catch {
      // The peer is broken already: leaving is all that is left to do.
    }
    void this.#leave(client, 'internal error', reasonOf(err));
  }

  async #leave(client: ChatClient, reason: string, cause?: string): Promise<void> {
    if (client.left) return;
    client.left = true;
    this.#clients.delete(client);
    this.#byNick.delete(client.nick.toLowerCase());
    this.#log?.(`${client.nick} disconnected${reason ? `: ${reason}` : ''}${cause ? ` (${cause})` : ''}`);
    try {
      if (client.room) await this.#exit(client, reason);
      await this.hub.releaseNick(client.nick);
    } catch (err) {
      this.#log?.(`${client.nick}: could not record the departure: ${reasonOf(err)}`);
    }
  }

  /** close disconnects every client with `reason` and closes the hub. */
  close(reason = 'server shutting down'): Promise<void> {
    this.#closing ??= (async () => {
      for (const client of [...this.#clients]) {
        try {
          client.peer.close(printable(`* ${reason}`));
        } catch {
          // A broken peer is still disconnected below.
        }
        await this.disconnect(client, reason);
      }
      await this.hub.close();
    })();
    return this.#closing;
  }

  async #run(client: ChatClient, command: ChatCommand): Promise<'quit' | undefined> {
    const reply = (line: string): void => this.#tell(client, line);
    switch (command.kind) {
      case 'empty':
        return undefined;
      case 'say':
        if (!client.room) reply('* you are in no room; /join #ROOM first');
        else {
          this.stats.messages += 1;
          await this.hub.publish({ kind: 'say', room: client.room, from: client.nick, text: command.text });
        }
        return undefined;
      case 'nick': {
        const refusal = nickRefusal(command.nick);
        if (refusal) reply(`* ${refusal}`);
        else await this.#rename(client, command.nick);
        return undefined;
      }
      case 'join': {
        const room = normalizeRoom(command.room);
        if (!room) reply(`* ${roomRefusal(command.room)}`);
        else if (client.room === room) reply(`* you are already in ${room}`);
        else {
          if (client.room) await this.#exit(client, `joined ${room}`);
          await this.#enter(client, room);
        }
        return undefined;
      }
      case 'part':
        if (!client.room) reply('* you are in no room');
        else {
          const room = client.room;
          await this.#exit(client, '');
          reply(`* you left ${room}; /join #ROOM to enter another`);
        }
        return undefined;
      case 'list': {
        // The hub's directory is shared: list only what this broker would have let in.
        const rooms = (await this.hub.rooms()).filter(
          (r) => typeof r.room === 'string' && isValidRoom(r.room) && Number.isSafeInteger(r.members),
        );
        reply(
          rooms.length ? `* rooms: ${rooms.map((r) => `${r.room} (${r.members})`).join(', ')}` : '* no rooms',
        );
        return undefined;
      }
      case 'who': {
        const room = command.room === undefined ? client.room : normalizeRoom(command.room);
        if (command.room !== undefined && !room) reply(`* ${roomRefusal(command.room)}`);
        else if (!room) reply('* you are in no room; /who #ROOM');
        else {
          const members = (await this.hub.members(room)).filter(
            (m) => typeof m === 'string' && isValidNick(m),
          );
          reply(`* ${room}: ${members.length ? members.join(', ') : 'nobody'}`);
        }
        return undefined;
      }
      case 'msg': {
        const refusal = nickRefusal(command.nick);
        if (refusal) reply(`* ${refusal}`);
        else if (!(await this.hub.hasNick(command.nick))) reply(`* no such nick: ${command.nick}`);
        else {
          await this.hub.publish({
            kind: 'private',
            from: client.nick,
            to: command.nick,
            text: command.text,
          });
          reply(`-> *${command.nick}* ${command.text}`);
        }
        return undefined;
      }
      case 'quit':
        reply(`* bye, ${client.nick}`);
        await this.disconnect(client, command.reason ? `quit: ${command.reason}` : 'quit');
        return 'quit';
      case 'help':
        reply(`* ${HELP_TEXT}`);
        return undefined;
      case 'invalid':
        reply(`* ${command.reason}`);
        return undefined;
    }
  }

  /** rename gives `client` the valid nickname `nick`, if it is free. */
  async #rename(client: ChatClient, nick: string): Promise<void> {
    const old = client.nick;
    if (nick === old) return this.#tell(client, `* you are already ${nick}`);
    // Changing only the case keeps the claim, which is case-insensitive.
    const sameName = nick.toLowerCase() === old.toLowerCase();
    if (!sameName && !(await this.hub.claimNick(nick))) return this.#tell(client, `* nick ${nick} is taken`);
    if (client.left) {
      // The client left while the claim was in flight.
      if (!sameName) await this.hub.releaseNick(nick);
      return;
    }
    this.#byNick.delete(old.toLowerCase());
    client.nick = nick;
    this.#byNick.set(nick.toLowerCase(), client);
    if (!sameName) await this.hub.releaseNick(old);
    if (client.room) {
      await this.hub.leaveRoom(client.room, old);
      await this.hub.enterRoom(client.room, nick);
      await this.hub.publish({ kind: 'rename', room: client.room, from: old, to: nick });
    } else this.#tell(client, `* you are now known as ${nick}`);
  }

  async #enter(client: ChatClient, room: string): Promise<void> {
    client.room = room;
    const members = this.#rooms.get(room) ?? new Set<ChatClient>();
    this.#rooms.set(room, members);
    members.add(client);
    await this.hub.enterRoom(room, client.nick);
    await this.hub.publish({ kind: 'join', room, nick: client.nick });
  }

  async #exit(client: ChatClient, reason: string): Promise<void> {
    const room = client.room as string;
    client.room = undefined;
    const members = this.#rooms.get(room);
    members?.delete(client);
    if (members?.size === 0) this.#rooms.delete(room);
    await this.hub.leaveRoom(room, client.nick);
    await this.hub.publish({ kind: 'part', room, nick: client.nick, reason });
  }

  async #guestNick(): Promise<string> {
    for (let attempt = 0; ; attempt++) {
      this.#guests += 1;
      // Brokers sharing a hub count guests on their own: after clashes, add a random suffix.
      const suffix = attempt < 3 ? '' : `-${Math.floor(Math.random() * 1e4)}`;
      const nick = `guest${this.#guests}${suffix}`;
      if (await this.hub.claimNick(nick)) return nick;
    }
  }

  /** receive delivers an event from the hub, unless it breaks the rules; then it logs why. */
  #receive(event: unknown): void {
    const refusal = eventRefusal(event);
    if (refusal) this.#log?.(`ignored an event from the hub: ${refusal}`);
    else this.#deliver(event as ChatEvent);
  }

  /** deliver sends an event from the hub to the clients of this broker it concerns. */
  #deliver(event: ChatEvent): void {
    switch (event.kind) {
      case 'say':
        this.#toRoom(event.room, `<${event.from}> ${event.text}`, event.from);
        return;
      case 'join':
        this.#toRoom(event.room, `* ${event.nick} joined ${event.room}`);
        return;
      case 'part':
        this.#toRoom(
          event.room,
          `* ${event.nick} left ${event.room}${event.reason ? ` (${event.reason})` : ''}`,
        );
        return;
      case 'rename':
        this.#toRoom(event.room, `* ${event.from} is now known as ${event.to}`);
        return;
      case 'private': {
        const target = this.#byNick.get(event.to.toLowerCase());
        if (target) {
          this.stats.delivered += 1;
          this.#tell(target, `*${event.from}* ${event.text}`);
        }
        return;
      }
    }
  }

  #toRoom(room: string, line: string, except?: string): void {
    const shown = printable(line); // once, not once per member
    for (const client of this.#rooms.get(room) ?? []) {
      if (client.nick === except) continue;
      this.stats.delivered += 1;
      this.#write(client, shown);
    }
  }

  /** tell sends `line` to `client` in its printable form. */
  #tell(client: ChatClient, line: string): void {
    this.#write(client, printable(line));
  }

  /**
   * write sends a printable line to `client`. A peer must not throw; one that does is dropped
   * alone (fail), so that delivering to a room never stops at a broken member.
   */
  #write(client: ChatClient, line: string): void {
    try {
      client.peer.send(line);
    } catch (err) {
      this.fail(client, err);
    }
  }
}

type Rule = 'nick' | 'room' | 'text';

/** The fields of each kind of event, and the rule each obeys. */
const EVENT_FIELDS: Readonly<Record<string, Readonly<Record<string, Rule>>>> = {
  say: { room: 'room', from: 'nick', text: 'text' },
  join: { room: 'room', nick: 'nick' },
  part: { room: 'room', nick: 'nick', reason: 'text' },
  rename: { room: 'room', from: 'nick', to: 'nick' },
  private: { from: 'nick', to: 'nick', text: 'text' },
};

/**
 * eventRefusal returns why `event`, as received from the hub, must not be delivered (not an
 * event, an unknown kind, a field that is not text, a name that breaks the rules), or undefined.
 */
function eventRefusal(event: unknown): string | undefined {
  if (typeof event !== 'object' || event === null) return 'not an event';
  const fields = event as Record<string, unknown>;
  const kind = fields.kind;
  const rules =
    typeof kind === 'string' && Object.hasOwn(EVENT_FIELDS, kind) ? EVENT_FIELDS[kind] : undefined;
  if (!rules) return 'unknown kind of event';
  for (const [field, rule] of Object.entries(rules)) {
    const value = fields[field];
    if (typeof value !== 'string') return `${kind} event: ${field} is not text`;
    if (rule === 'nick') {
      const refusal = nickRefusal(value);
      if (refusal) return refusal;
    }
    // Rooms travel in their full form, with their #.
    if (rule === 'room' && !isValidRoom(value)) return roomRefusal(value) ?? `room ${value} without its #`;
  }
  return undefined;
}

function reasonOf(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
