/**
 * quoteForLog makes client-chosen text safe to put in a server's log line.
 */

/**
 * quoteForLog quotes `text` (a header value, an error message) for a log line, cut to `max`
 * characters: a client chose it, and a terminal must not run what it holds (ESC, C1 controls,
 * bare CR), so everything but printable ASCII is written as a `\uXXXX` escape.
 */
export function quoteForLog(text: string, max = 200): string {
  const cut = text.length > max ? `${text.slice(0, max)}...` : text;
  return JSON.stringify(cut).replace(
    /[^\x20-\x7e]/g,
    (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`,
  );
}
