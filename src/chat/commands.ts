/**
 * The chat's line protocol, as a person types it into `nc`: a line is a message to the current
 * room, unless it starts with `/` and names a command. Parsing is pure: a line in, a command out.
 */

/** ChatCommand is what one line from a client asks for. */
export type ChatCommand =
  | { readonly kind: 'say'; readonly text: string }
  | { readonly kind: 'nick'; readonly nick: string }
  | { readonly kind: 'join'; readonly room: string }
  | { readonly kind: 'part' }
  | { readonly kind: 'list' }
  | { readonly kind: 'who'; readonly room: string | undefined }
  | { readonly kind: 'msg'; readonly nick: string; readonly text: string }
  | { readonly kind: 'quit'; readonly reason: string }
  | { readonly kind: 'help' }
  | { readonly kind: 'empty' }
  | { readonly kind: 'invalid'; readonly reason: string };

/** HELP_TEXT lists the commands, one line, as the broker sends it to a client. */
export const HELP_TEXT =
  'commands: /nick NAME, /join #ROOM, /part, /list, /who [#ROOM], /msg NICK TEXT, /quit [REASON]; ' +
  'any other line goes to your room (start it with // to send a line that begins with /)';

const NICK = /^[A-Za-z][A-Za-z0-9_-]{0,19}$/;
const ROOM = /^#[A-Za-z0-9_-]{1,30}$/;

/** isValidNick tells whether `nick` is a valid nickname: a letter, then up to 19 letters, digits, `_` or `-`. */
export function isValidNick(nick: string): boolean {
  return NICK.test(nick);
}

/** normalizeRoom returns `room` with its `#` (added if missing), or undefined if it is not a valid room name. */
export function normalizeRoom(room: string): string | undefined {
  const name = room.startsWith('#') ? room : `#${room}`;
  return ROOM.test(name) ? name : undefined;
}

/**
 * parseCommand reads one line (without its ending). Blank lines are `empty`; a line starting with
 * `//` is a message starting with `/`; an unknown or malformed command is `invalid` with a reason
 * to show the client (not an error: the client just typed it wrong).
 */
export function parseCommand(line: string): ChatCommand {
  if (line.trim() === '') return { kind: 'empty' };
  if (!line.startsWith('/')) return { kind: 'say', text: line };
  if (line.startsWith('//')) return { kind: 'say', text: line.slice(1) };
  const [name = '', ...args] = line.slice(1).trim().split(/\s+/);
  const rest = line.slice(1).trim().slice(name.length).trim();
  switch (name.toLowerCase()) {
    case 'nick': {
      const nick = args[0];
      if (args.length !== 1 || !nick) return { kind: 'invalid', reason: 'usage: /nick NAME' };
      if (!isValidNick(nick))
        return {
          kind: 'invalid',
          reason: `invalid nick ${JSON.stringify(nick)} (a letter, then up to 19 letters, digits, _ or -)`,
        };
      return { kind: 'nick', nick };
    }
    case 'join': {
      const room = args.length === 1 && args[0] ? normalizeRoom(args[0]) : undefined;
      if (!room) return { kind: 'invalid', reason: 'usage: /join #ROOM (letters, digits, _ or -, up to 30)' };
      return { kind: 'join', room };
    }
    case 'part':
    case 'leave':
      return { kind: 'part' };
    case 'list':
      return { kind: 'list' };
    case 'who':
    case 'names': {
      if (args.length === 0) return { kind: 'who', room: undefined };
      const room = normalizeRoom(args[0] ?? '');
      return room ? { kind: 'who', room } : { kind: 'invalid', reason: 'usage: /who [#ROOM]' };
    }
    case 'msg': {
      const nick = args[0] ?? '';
      const text = rest.slice(nick.length).trim();
      if (!nick || !text) return { kind: 'invalid', reason: 'usage: /msg NICK TEXT' };
      return { kind: 'msg', nick, text };
    }
    case 'quit':
    case 'exit':
      return { kind: 'quit', reason: rest };
    case 'help':
      return { kind: 'help' };
    default:
      return { kind: 'invalid', reason: `unknown command /${name} (try /help)` };
  }
}
