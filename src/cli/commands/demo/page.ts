/**
 * The demo page, as strings so that `tsc` builds it with the rest (no copy step, no network: no
 * CDN, every script and style inline). It asks the server for a demo over the WebSocket at `/ws`
 * and draws each trace event as it comes: a sequence diagram with the client, the network and
 * the server as lanes, one arrow per step and per segment or datagram; hovering a row shows its
 * `--trace` line and, for data, its bytes. Everything received is shown as text (`textContent`,
 * SVG text nodes), never parsed as HTML.
 */
import { createHash } from 'node:crypto';

const STYLE = `
  :root { --client: #1f5fa8; --server: #217a3c; --data: #c26a00; --error: #b3261e; --ink: #222; }
  * { box-sizing: border-box; }
  body { font: 14px/1.4 system-ui, sans-serif; margin: 0; height: 100vh; display: flex; flex-direction: column; color: var(--ink); }
  header { padding: .5rem 1rem; background: #223; color: #eef; display: flex; gap: .6rem; align-items: center; flex-wrap: wrap; }
  header h1 { font-size: 1rem; margin: 0 1rem 0 0; }
  header button { font: inherit; padding: .25rem .7rem; border-radius: 4px; border: 1px solid #889; background: #f4f4fa; cursor: pointer; }
  header button:disabled { opacity: .5; cursor: default; }
  header input { font: inherit; padding: .2rem .4rem; width: 12rem; }
  #status { margin-left: auto; font-family: ui-monospace, monospace; }
  main { flex: 1; display: flex; min-height: 0; }
  #diagram-wrap { flex: 0 0 720px; overflow: auto; border-right: 1px solid #ccd; background: #fcfcff; position: relative; }
  #lanes { position: sticky; top: 0; height: 30px; width: 700px; background: #fcfcffee; border-bottom: 1px solid #dde; z-index: 1; }
  #lanes span { position: absolute; top: 6px; width: 220px; margin-left: -110px; text-align: center; font-weight: 600; }
  #story { flex: 1; overflow: auto; margin: 0; padding: .5rem 1rem; font: 12.5px/1.35 ui-monospace, monospace; white-space: pre-wrap; }
  #story .step { font-weight: 600; margin-top: .8rem; font-family: system-ui, sans-serif; font-size: 14px; }
  #story .trace { color: #667; }
  #story .conclude { margin-top: .8rem; font-weight: 600; }
  #story .error { color: var(--error); font-weight: 600; }
  svg text { font: 12px ui-monospace, monospace; fill: var(--ink); }
  svg .lane { stroke: #aab; stroke-dasharray: 4 4; }
  svg .row .arrow { stroke: #556; stroke-width: 1.6; }
  svg .row.client .arrow { stroke: var(--client); }
  svg .row.server .arrow { stroke: var(--server); }
  svg .row.data .arrow { stroke: var(--data); stroke-width: 2.4; }
  svg .row.error .arrow { stroke: var(--error); }
  svg .row.error text { fill: var(--error); }
  svg .row .hit { fill: transparent; }
  svg .row .box { fill: #fff; stroke: #99a; }
  svg .row.client .box { stroke: var(--client); }
  svg .row.server .box { stroke: var(--server); }
  svg .row.note .box { stroke-dasharray: 2 2; }
  svg .row:hover text { font-weight: 700; }
  svg .chapter line { stroke: #dde; }
  svg .chapter text { fill: #778; font: italic 11.5px system-ui, sans-serif; }
  #tip { position: fixed; display: none; max-width: 560px; padding: .4rem .6rem; background: #fffff4; border: 1px solid #bb9; border-radius: 4px; box-shadow: 0 2px 8px #0003; font: 12px/1.35 ui-monospace, monospace; white-space: pre; pointer-events: none; z-index: 10; }
`;

const SCRIPT = String.raw`
  const NS = 'http://www.w3.org/2000/svg';
  const WIDTH = 700, TOP = 26, ROW = 30;
  const X = { client: 130, network: 350, server: 570 };
  const TITLES = {
    tcp: ['client', 'network', 'server'], udp: ['client', 'network', 'server'], tls: ['client', 'network', 'server'],
    raw: ['program (raw socket)', 'network (loopback)', 'kernel (answers echoes)'],
  };
  const svg = document.getElementById('diagram');
  const story = document.getElementById('story');
  const status = document.getElementById('status');
  const tip = document.getElementById('tip');
  const lanes = document.getElementById('lanes');
  const buttons = [...document.querySelectorAll('button[data-run]')];
  let rows = 0, laneLines = [], socket;

  const el = (name, attrs, parent) => {
    const node = document.createElementNS(NS, name);
    for (const [key, value] of Object.entries(attrs)) node.setAttribute(key, String(value));
    if (parent) parent.appendChild(node);
    return node;
  };
  const text = (x, y, content, attrs, parent) => {
    const node = el('text', { x, y, ...attrs }, parent);
    node.textContent = content;
    return node;
  };
  const setState = (state, words) => { document.body.dataset.state = state; status.textContent = words; };
  const tell = (kind, words) => {
    const row = document.createElement('div');
    row.className = kind;
    row.textContent = words;
    story.appendChild(row);
    story.scrollTop = story.scrollHeight;
  };

  function reset(kind) {
    svg.replaceChildren();
    story.replaceChildren();
    rows = 0;
    const defs = el('defs', {}, svg);
    for (const [id, color] of [['head', '#556'], ['head-client', '#1f5fa8'], ['head-server', '#217a3c'], ['head-data', '#c26a00'], ['head-error', '#b3261e']]) {
      const marker = el('marker', { id, viewBox: '0 0 10 10', refX: 9, refY: 5, markerWidth: 9, markerHeight: 9, markerUnits: 'userSpaceOnUse', orient: 'auto-start-reverse' }, defs);
      el('path', { d: 'M0,0 L10,5 L0,10 z', fill: color }, marker);
    }
    const titles = TITLES[kind] || TITLES.tcp;
    lanes.replaceChildren();
    laneLines = [X.client, X.network, X.server].map((x, i) => {
      const title = document.createElement('span');
      title.textContent = titles[i];
      title.style.left = x + 'px';
      lanes.appendChild(title);
      return el('line', { x1: x, x2: x, y1: 0, y2: 0, class: 'lane' }, svg);
    });
    grow();
  }
  function grow() {
    const height = TOP + rows * ROW + 10;
    svg.setAttribute('height', height);
    svg.setAttribute('width', WIDTH);
    for (const line of laneLines) line.setAttribute('y2', height);
    const wrap = svg.parentElement;
    wrap.scrollTop = wrap.scrollHeight;
  }

  /** describe says how one trace event is drawn: a box on its lane, or an arrow to or from the network. */
  function describe(e) {
    const udp = e.kind.startsWith('udp'), raw = e.kind.startsWith('icmp');
    const unit = udp ? ' datagram' : raw ? ' ICMP' : e.kind.startsWith('tls') ? ' record(s)' : ' segment(s)';
    switch (e.step) {
      case 'created': return { label: 'socket() ' + e.kind };
      case 'bound': return { label: 'bind ' + e.address };
      case 'listening': return { label: 'listen' + (e.detail ? ' (' + e.detail + ')' : '') };
      case 'connecting': return { arrow: 'out', label: 'connect ' + e.address + ' (SYN)' };
      case 'connected':
        return udp ? { label: 'connect: local, no packet' }
                   : { arrow: 'in', label: 'connected (SYN-ACK)' };
      case 'accepted': return { arrow: 'in', label: 'accept ' + e.address };
      case 'sent': return { arrow: 'out', data: true, label: 'send ' + e.bytes + ' B' + unit };
      case 'recv': return { arrow: 'in', data: true, label: 'recv ' + e.bytes + ' B' + unit };
      case 'shutdown-write': return { arrow: 'out', label: 'shutdown write (FIN)' };
      case 'peer-shutdown-write': return { arrow: 'in', label: 'EOF: peer sent FIN' };
      case 'closed': return { label: 'close' };
      case 'error': return { arrow: 'in', error: true, label: 'error: ' + (e.detail || '') };
      default: return { note: true, label: e.detail || '' };
    }
  }
  // The terminal's line breaks inside a paragraph; the page wraps prose itself.
  const prose = (words) => words.split('\n').join(' ');
  const shorten = (words, max) => words.length > max ? words.slice(0, max - 1) + '…' : words;

  function addRow(e) {
    const d = describe(e);
    const y = TOP + rows * ROW;
    rows += 1;
    const classes = ['row', e.lane, d.data ? 'data' : '', d.error ? 'error' : '', d.note ? 'note' : ''].join(' ').trim();
    const g = el('g', { class: classes, 'data-step': e.step, 'data-lane': e.lane, 'data-arrow': d.arrow ? 'yes' : 'no' }, svg);
    const x = X[e.lane], net = X.network;
    if (d.arrow) {
      const [from, to] = d.arrow === 'out' ? [x, net] : [net, x];
      const head = d.error ? 'head-error' : d.data ? 'head-data' : 'head-' + e.lane;
      el('line', { x1: from, y1: y, x2: to, y2: y, class: 'arrow', 'marker-end': 'url(#' + head + ')' }, g);
      el('rect', { x: Math.min(from, to), y: y - 14, width: Math.abs(to - from), height: 20, class: 'hit' }, g);
      text((from + to) / 2, y - 5, shorten(d.label, 30), { 'text-anchor': 'middle' }, g);
    } else {
      const label = text(x, y + 4, shorten(d.label, 34), { 'text-anchor': 'middle' }, g);
      const box = label.getBBox();
      const rect = el('rect', { x: box.x - 6, y: box.y - 3, width: box.width + 12, height: box.height + 6, rx: 4, class: 'box' });
      g.insertBefore(rect, label);
    }
    g.addEventListener('mouseenter', (event) => showTip(e, event));
    g.addEventListener('mousemove', moveTip);
    g.addEventListener('mouseleave', () => { tip.style.display = 'none'; });
    grow();
  }
  function addChapter(words) {
    const y = TOP + rows * ROW;
    rows += 1;
    const g = el('g', { class: 'chapter' }, svg);
    el('line', { x1: 8, x2: WIDTH - 8, y1: y + 6, y2: y + 6 }, g);
    text(12, y + 2, shorten(words.split('\n')[0], 100), {}, g);
    grow();
  }

  function hexdump(hex, total) {
    const bytes = [];
    for (let i = 0; i < hex.length; i += 2) bytes.push(parseInt(hex.slice(i, i + 2), 16));
    const lines = [];
    for (let at = 0; at < bytes.length; at += 16) {
      const chunk = bytes.slice(at, at + 16);
      const hexes = chunk.map((b) => b.toString(16).padStart(2, '0')).join(' ');
      const chars = chunk.map((b) => (b >= 32 && b < 127 ? String.fromCharCode(b) : '.')).join('');
      lines.push(at.toString(16).padStart(4, '0') + '  ' + hexes.padEnd(47) + '  ' + chars);
    }
    if (total > bytes.length) lines.push('... ' + (total - bytes.length) + ' more bytes');
    return lines.join('\n');
  }
  function showTip(e, event) {
    tip.textContent = '[' + e.lane + '] ' + e.text + (e.data !== undefined ? '\n\n' + hexdump(e.data, e.bytes) : '');
    tip.style.display = 'block';
    moveTip(event);
  }
  function moveTip(event) {
    tip.style.left = Math.min(event.clientX + 14, window.innerWidth - tip.offsetWidth - 8) + 'px';
    tip.style.top = Math.min(event.clientY + 14, window.innerHeight - tip.offsetHeight - 8) + 'px';
  }

  function connect() {
    setState('connecting', 'connecting…');
    socket = new WebSocket((location.protocol === 'https:' ? 'wss:' : 'ws:') + '//' + location.host + '/ws');
    socket.addEventListener('open', () => { setState('ready', 'ready: press a button'); enable(true); });
    socket.addEventListener('close', () => { setState('closed', 'disconnected: reload the page'); enable(false); });
    socket.addEventListener('message', (message) => {
      let m;
      try { m = JSON.parse(message.data); } catch { return; }
      if (m.type === 'start') { reset(m.kind); setState('running', 'running ' + m.kind + '…'); enable(false); }
      else if (m.type === 'step') { addChapter(m.text); tell('step', prose(m.text)); }
      else if (m.type === 'say') tell('say', m.text);
      else if (m.type === 'conclude') tell('conclude', prose(m.text));
      else if (m.type === 'event') { addRow(m); tell('trace', '[' + m.lane + '] ' + m.text); }
      else if (m.type === 'end') {
        if (m.error) tell('error', m.error);
        setState(m.ok ? 'done' : 'failed', m.ok ? 'done' : 'failed' + (m.error ? ': ' + m.error : ''));
        enable(true);
      } else if (m.type === 'refused') { tell('error', m.reason); }
    });
  }
  function enable(on) { for (const button of buttons) button.disabled = !on; }
  for (const button of buttons) {
    button.addEventListener('click', () => {
      const message = document.getElementById('message').value || 'Hello, world';
      socket.send(JSON.stringify({ run: button.dataset.run, message }));
    });
  }
  reset('tcp');
  connect();
`;

const hash = (text: string): string => `'sha256-${createHash('sha256').update(text).digest('base64')}'`;

/** DEMO_PAGE_POLICY is the page's Content-Security-Policy: its own script and style, its own WebSocket, nothing else. */
export const DEMO_PAGE_POLICY = [
  "default-src 'none'",
  `script-src ${hash(SCRIPT)}`,
  `style-src ${hash(STYLE)}`,
  "connect-src 'self'",
  "base-uri 'none'",
  "form-action 'none'",
  "frame-ancestors 'none'",
].join('; ');

/** DEMO_PAGE is the page `GET /` returns. */
export const DEMO_PAGE = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>sockkit demo</title>
<style>${STYLE}</style>
</head>
<body data-state="loading">
<header>
  <h1>sockkit demo</h1>
  <button data-run="tcp" id="run-tcp" disabled>TCP: stream echo</button>
  <button data-run="udp" id="run-udp" disabled>UDP: datagrams</button>
  <button data-run="tls" id="run-tls" disabled>TLS: handshake, ciphertext</button>
  <button data-run="raw" id="run-raw" disabled>raw: ICMP by hand</button>
  <label>message <input id="message" value="Hello, world" maxlength="200" autocomplete="off"></label>
  <span id="status" aria-live="polite"></span>
</header>
<main>
  <div id="diagram-wrap"><div id="lanes"></div><svg id="diagram" xmlns="http://www.w3.org/2000/svg" role="img" aria-label="sequence diagram"></svg></div>
  <div id="story" aria-live="polite"></div>
</main>
<div id="tip" role="tooltip"></div>
<script>${SCRIPT}</script>
</body>
</html>
`;
