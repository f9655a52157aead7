/**
 * The chat's web page, as a string so that `tsc` builds it with the rest (no copy step). It
 * connects to the broker's WebSocket endpoint at `/chat` and speaks the same lines as `nc` users.
 * Incoming text is shown with `textContent`, never as HTML, so a message cannot inject markup.
 */

/** CHAT_PAGE is the page `GET /` returns. */
export const CHAT_PAGE = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>sockkit chat</title>
<style>
  body { font: 15px/1.4 system-ui, sans-serif; margin: 0; display: flex; flex-direction: column; height: 100vh; }
  header { padding: .5rem 1rem; background: #223; color: #eef; }
  #log { flex: 1; overflow-y: auto; margin: 0; padding: .5rem 1rem; font-family: ui-monospace, monospace; white-space: pre-wrap; }
  #log .notice { color: #666; }
  #log .mine { color: #135; }
  form { display: flex; gap: .5rem; padding: .5rem 1rem; border-top: 1px solid #ccc; }
  #text { flex: 1; font: inherit; padding: .3rem; }
  [hidden] { display: none !important; }
</style>
</head>
<body>
<header>sockkit chat <span id="status"></span></header>
<pre id="log" aria-live="polite"></pre>
<form id="join">
  <label>Nickname <input id="nick" name="nick" autocomplete="off" required pattern="[A-Za-z][A-Za-z0-9_\\-]{0,19}"></label>
  <button>Join</button>
</form>
<form id="say" hidden>
  <input id="text" name="text" autocomplete="off" placeholder="message, or /help">
  <button>Send</button>
</form>
<script type="module">
  const log = document.getElementById('log');
  const status = document.getElementById('status');
  const show = (line, kind) => {
    const row = document.createElement('div');
    row.textContent = line;
    if (kind) row.className = kind;
    else if (line.startsWith('* ') || line.startsWith('-> ')) row.className = 'notice';
    log.append(row);
    log.scrollTop = log.scrollHeight;
  };
  let socket;
  let current = '';
  document.getElementById('join').addEventListener('submit', (event) => {
    event.preventDefault();
    const nick = document.getElementById('nick').value.trim();
    const scheme = location.protocol === 'https:' ? 'wss:' : 'ws:';
    socket = new WebSocket(scheme + '//' + location.host + '/chat?nick=' + encodeURIComponent(nick));
    socket.addEventListener('open', () => {
      status.textContent = '· connected as ' + nick;
      document.getElementById('join').hidden = true;
      document.getElementById('say').hidden = false;
      document.getElementById('text').focus();
    });
    socket.addEventListener('message', (message) => {
      const line = String(message.data);
      // Keep the header true to the broker: it may have given another name, or a /nick changed it.
      const named = /^\\* welcome, (\\S+)! /.exec(line) || /^\\* (?:you are now known as|\\S+ is now known as) (\\S+)$/.exec(line);
      if (named && (line.startsWith('* welcome') || line.startsWith('* you') || line.startsWith('* ' + current + ' '))) {
        current = named[1];
        status.textContent = '· connected as ' + current;
      }
      show(line);
    });
    socket.addEventListener('close', (close) => {
      status.textContent = '· disconnected' + (close.reason ? ': ' + close.reason : '');
      document.getElementById('say').hidden = true;
    });
  });
  document.getElementById('say').addEventListener('submit', (event) => {
    event.preventDefault();
    const input = document.getElementById('text');
    const text = input.value;
    if (!text || !socket || socket.readyState !== WebSocket.OPEN) return;
    socket.send(text);
    // The broker does not echo a message to its sender (nc users see what they typed): show it here.
    if (!text.startsWith('/') || text.startsWith('//')) show('<me> ' + text.replace(/^\\/\\//, '/'), 'mine');
    input.value = '';
  });
</script>
</body>
</html>
`;
