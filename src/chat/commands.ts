/**
 * The chat's line protocol, as a person types it into `nc`: a line is a message to the current
 * room, unless it starts with `/` and names a command. Parsing is pure: a line in, a command out.
 * Here too are the text rules the broker applies: what a name may be, and how control
 * characters are shown (`printable`).
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
/** What a nickname may be, as every refusal states it. */
const NICK_RULE = 'a letter, then up to 19 letters, digits, _ or -';
/** What a room name may be, as every refusal states it. */
const ROOM_RULE = '# then 1 to 30 letters, digits, _ or -';
/** The longest name a refusal quotes: a refused name may be thousands of characters long. */
const QUOTED_MAX = 32;

/** isValidNick tells whether `nick` is a valid nickname: a letter, then up to 19 letters, digits, `_` or `-`. */
export function isValidNick(nick: string): boolean {
  return NICK.test(nick);
}

/** isValidRoom tells whether `room` is a valid room name as the broker keeps it: `#` then 1 to 30 letters, digits, `_` or `-`. */
export function isValidRoom(room: string): boolean {
  return ROOM.test(room);
}

/** normalizeRoom returns `room` with its `#` (added if missing), or undefined if it is not a valid room name. */
export function normalizeRoom(room: string): string | undefined {
  const name = room.startsWith('#') ? room : `#${room}`;
  return ROOM.test(name) ? name : undefined;
}

/**
 * nickRefusal returns why `nick` cannot be a nickname (`invalid nick "9lives" (a letter, then ...)`,
 * quoting at most 32 characters of it), or undefined when it can. It is the one refusal every way
 * a nickname enters the chat gives.
 */
export function nickRefusal(nick: string): string | undefined {
  return NICK.test(nick) ? undefined : `invalid nick ${quoteName(nick)} (${NICK_RULE})`;
}

/** roomRefusal returns why `room` cannot be a room name (its `#` may be left out), or undefined when it can. */
export function roomRefusal(room: string): string | undefined {
  return normalizeRoom(room) ? undefined : `invalid room ${quoteName(room)} (${ROOM_RULE})`;
}

/** quoteName quotes a refused name for a reply: JSON string syntax, cut short past QUOTED_MAX characters. */
function quoteName(name: string): string {
  const chars = [...name];
  return JSON.stringify(chars.length > QUOTED_MAX ? `${chars.slice(0, QUOTED_MAX).join('')}…` : name);
}

// C0 controls but TAB (U+0000-U+0008, U+000A-U+001F), DEL, and C1 controls (U+0080-U+009F).
// biome-ignore lint/suspicious/noControlCharactersInRegex: matching control characters is the point.
const CONTROL = /[\x00-\x08\x0a-\x1f\x7f-\x9f]/g;

/**
 * printable returns `text` with every control character a terminal could act on replaced by a
 * visible form, so that no chat line can move a cursor, clear a screen, set a title or write a
 * clipboard (OSC 52): C0 controls and DEL in caret notation (`^[` for ESC, `^M` for CR, `^J` for
 * LF, `^@` for NUL, `^?` for DEL), C1 controls (U+0080 to U+009F) as `<U+009B>`. TAB is kept.
 * Text without control characters is returned as it is.
 */
export function printable(text: string): string {
  return text.replace(CONTROL, (char) => {
    const code = char.charCodeAt(0);
    if (code < 0x20) return `^${String.fromCharCode(code + 0x40)}`;
    if (code === 0x7f) return '^?';
    return `<U+${code.toString(16).toUpperCase().padStart(4, '0')}>`;
  });
}

/**
 * parseCommand reads one line (without its ending). Blank lines are `empty`; a line starting with
 * `//` is a message starting with `/`; an unknown or malformed command is `invalid` with a reason
 * to show the client (not an error: the client just typed it wrong). Names (nicks, rooms) come
 * out as typed: the broker checks every name in one place, whichever way it arrives.
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
      return { kind: 'nick', nick };
    }
    case 'join': {
      const room = args[0];
      if (args.length !== 1 || !room) return { kind: 'invalid', reason: 'usage: /join #ROOM' };
      return { kind: 'join', room };
    }
    case 'part':
    case 'leave':
      return { kind: 'part' };
    case 'list':
      return { kind: 'list' };
    case 'who':
    case 'names': {
      if (args.length > 1) return { kind: 'invalid', reason: 'usage: /who [#ROOM]' };
      return { kind: 'who', room: args[0] };
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
