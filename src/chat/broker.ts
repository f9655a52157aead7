/**
 * Broker runs a chat: nicknames, rooms, commands, and the delivery of every line to the clients
 * it concerns. It knows nothing of sockets: each client is a ChatPeer (a TCP or Unix line stream,
 * a WebSocket), so every transport gets the same rules. What brokers share goes through a Hub.
 */
import { ChatClient, type ChatPeer } from './chat-client.js';
import { type ChatCommand, HELP_TEXT, parseCommand } from './commands.js';
import { FloodControl } from './flood-control.js';
import { type ChatEvent, type Hub, MemoryHub } from './hub.js';

/** BrokerOptions tune a Broker. Every field is optional. */
export interface BrokerOptions {
  /** Where brokers share state; a MemoryHub (this process only) by default. */
  readonly hub?: Hub | undefined;
  /** The room every client starts in. Default `#lobby`. */
  readonly room?: string | undefined;
  /** Clients this broker accepts at once; the next one is told the server is full. Default 1000. */
  readonly maxClients?: number | undefined;
  /** Lines per second a client may send on average (0: no limit). Default 10. */
  readonly floodRate?: number | undefined;
  /** Lines a client may send at once before the rate applies. Default 20. */
  readonly floodBurst?: number | undefined;
  /** Receives one line per client arriving or leaving (with the reason), for a server's log. */
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
    this.hub = options.hub ?? new MemoryHub();
    this.room = options.room ?? '#lobby';
    this.maxClients = options.maxClients ?? 1000;
    this.#floodRate = options.floodRate ?? 10;
    this.#floodBurst = options.floodBurst ?? 20;
    this.#log = options.log;
    new FloodControl(this.#floodRate, this.#floodBurst); // validates the options now, not per client
  }

  /** start creates a broker and subscribes it to its hub's events. Throws RangeError for bad limits. */
  static async start(options: BrokerOptions = {}): Promise<Broker> {
    const broker = new Broker(options);
    await broker.hub.subscribe((event) => broker.#deliver(event));
    return broker;
  }

  /** clients is the number of clients connected to this broker. */
  get clients(): number {
    return this.#clients.size;
  }

  /**
   * connect admits a client, with `nick` if it is free (otherwise a guest name), puts it in the
   * default room and announces it. When the broker is full it closes the peer with a reason and
   * resolves undefined.
   */
  async connect(peer: ChatPeer, nick?: string): Promise<ChatClient | undefined> {
    if (this.#clients.size >= this.maxClients) {
      this.stats.rejected += 1;
      this.#log?.(`${peer.label} turned away: server full (${this.maxClients} clients)`);
      peer.close(`* server full (${this.maxClients} clients); try again later`);
      return undefined;
    }
    let wanted: string | undefined;
    let given: string;
    try {
      wanted = nick && (await this.hub.claimNick(nick)) ? nick : undefined;
      given = wanted ?? (await this.#guestNick());
    } catch (err) {
      this.#log?.(`${peer.label} turned away: ${reasonOf(err)}`);
      peer.close(`* error: the chat is unavailable (${reasonOf(err)})`);
      return undefined;
    }
    const client = new ChatClient(peer, given, new FloodControl(this.#floodRate, this.#floodBurst));
    this.#clients.add(client);
    this.#byNick.set(client.nick.toLowerCase(), client);
    this.stats.connections += 1;
    this.#log?.(`${client.nick} connected from ${peer.label}`);
    if (nick && !wanted) peer.send(`* nick ${nick} is taken; you are ${client.nick}`);
    peer.send(`* welcome, ${client.nick}! /help lists the commands`);
    try {
      await this.#enter(client, this.room);
    } catch (err) {
      peer.send(`* error: ${reasonOf(err)}`);
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
      client.peer.send(`* error: ${reasonOf(err)}; try again`);
      return undefined;
    }
  }

  /** disconnect removes `client` and tells its room why it left. Calling it again does nothing. */
  async disconnect(client: ChatClient, reason: string): Promise<void> {
    if (client.left) return;
    client.left = true;
    this.#clients.delete(client);
    this.#byNick.delete(client.nick.toLowerCase());
    this.#log?.(`${client.nick} disconnected${reason ? `: ${reason}` : ''}`);
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
        client.peer.close(`* ${reason}`);
        await this.disconnect(client, reason);
      }
      await this.hub.close();
    })();
    return this.#closing;
  }

  async #run(client: ChatClient, command: ChatCommand): Promise<'quit' | undefined> {
    const reply = (line: string): void => client.peer.send(line);
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
      case 'nick':
        await this.#rename(client, command.nick);
        return undefined;
      case 'join':
        if (client.room === command.room) reply(`* you are already in ${command.room}`);
        else {
          if (client.room) await this.#exit(client, `joined ${command.room}`);
          await this.#enter(client, command.room);
        }
        return undefined;
      case 'part':
        if (!client.room) reply('* you are in no room');
        else {
          const room = client.room;
          await this.#exit(client, '');
          reply(`* you left ${room}; /join #ROOM to enter another`);
        }
        return undefined;
      case 'list': {
        const rooms = await this.hub.rooms();
        reply(
          rooms.length ? `* rooms: ${rooms.map((r) => `${r.room} (${r.members})`).join(', ')}` : '* no rooms',
        );
        return undefined;
      }
      case 'who': {
        const room = command.room ?? client.room;
        if (!room) reply('* you are in no room; /who #ROOM');
        else {
          const members = await this.hub.members(room);
          reply(`* ${room}: ${members.length ? members.join(', ') : 'nobody'}`);
        }
        return undefined;
      }
      case 'msg':
        if (!(await this.hub.hasNick(command.nick))) reply(`* no such nick: ${command.nick}`);
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

  async #rename(client: ChatClient, nick: string): Promise<void> {
    const old = client.nick;
    if (nick === old) return client.peer.send(`* you are already ${nick}`);
    // Changing only the case keeps the claim, which is case-insensitive.
    const sameName = nick.toLowerCase() === old.toLowerCase();
    if (!sameName && !(await this.hub.claimNick(nick))) return client.peer.send(`* nick ${nick} is taken`);
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
    } else client.peer.send(`* you are now known as ${nick}`);
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
        if (target) this.#send(target, `*${event.from}* ${event.text}`);
        return;
      }
    }
  }

  #toRoom(room: string, line: string, except?: string): void {
    for (const client of this.#rooms.get(room) ?? []) {
      if (client.nick !== except) this.#send(client, line);
    }
  }

  #send(client: ChatClient, line: string): void {
    this.stats.delivered += 1;
    client.peer.send(line);
  }
}

function reasonOf(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
