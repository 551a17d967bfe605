/**
 * The demo page: signs in as a made-up user and shows that user's live events of every type,
 * through the browser client (`client/`). Tabs of the same user share one stream; the page says
 * how many. Its only script import is the client bundle's URL.
 */
export const DEMO_PAGE = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>kafka-sse-gateway · live events</title>
<style>
  :root { --ink: #16181d; --muted: #667085; --line: #e4e7ec; --bg: #f6f7f9; --card: #fff;
    --accent: #3b5bdb; --ok: #12805c; --warn: #b54708; --bad: #b42318; }
  * { box-sizing: border-box; }
  body { margin: 0; font: 15px/1.5 system-ui, -apple-system, "Segoe UI", sans-serif; color: var(--ink); background: var(--bg); }
  header { background: var(--ink); color: #fff; padding: .9rem 1.5rem; display: flex; align-items: center; gap: .75rem; }
  header h1 { font-size: 1.05rem; margin: 0; font-weight: 600; letter-spacing: .01em; }
  header .tag { font-size: 12px; color: #c8ccd4; }
  main { max-width: 56rem; margin: 1.5rem auto; padding: 0 1rem; display: grid; gap: 1rem; }
  .card { background: var(--card); border: 1px solid var(--line); border-radius: 10px; padding: 1rem 1.25rem; }
  form { display: flex; flex-wrap: wrap; gap: .5rem; align-items: center; }
  label { font-weight: 600; }
  input { font: inherit; padding: .45rem .6rem; border: 1px solid #cfd4dc; border-radius: 6px; min-width: 14rem; }
  input:focus { outline: 2px solid var(--accent); outline-offset: 1px; }
  button { font: inherit; font-weight: 600; padding: .45rem .9rem; border: 0; border-radius: 6px; background: var(--accent); color: #fff; cursor: pointer; }
  .hint { color: var(--muted); font-size: 13px; margin: .4rem 0 0; }
  #error { color: var(--bad); font-weight: 600; margin: .5rem 0 0; }
  #error:empty { display: none; }
  .meta { display: flex; flex-wrap: wrap; gap: .5rem 1rem; align-items: center; color: var(--muted); font-size: 14px; }
  #status { display: inline-block; padding: .1rem .6rem; border-radius: 999px; font-weight: 600; background: #eef0f3; color: var(--muted); }
  #status.live { background: #e3f6ee; color: var(--ok); }
  #status.connecting, #status.reconnecting { background: #fdf0e4; color: var(--warn); }
  #status.closed { background: #fdecea; color: var(--bad); }
  pre { font: 12.5px/1.5 ui-monospace, SFMono-Regular, Menlo, monospace; background: #f2f4f7; border-radius: 6px; padding: .75rem; overflow-x: auto; margin: .5rem 0 0; }
  h2 { font-size: 1rem; margin: 0 0 .5rem; }
  #events { list-style: none; margin: 0; padding: 0; }
  #events li { display: grid; grid-template-columns: 1fr auto; gap: .15rem 1rem; padding: .6rem 0; border-top: 1px solid var(--line); }
  #events li:first-child { border-top: 0; }
  #events strong { font-weight: 600; }
  #events code { font: 12.5px ui-monospace, Menlo, monospace; background: #f2f4f7; border-radius: 4px; padding: .1rem .35rem; word-break: break-all; }
  #events time, #events .where { color: var(--muted); font-size: 12px; }
  #events time { text-align: right; }
  #events .badge { display: inline-block; margin-left: .4rem; font-size: 11px; font-weight: 600; text-transform: uppercase; letter-spacing: .04em; padding: 0 .45rem; border-radius: 999px; background: #eef2ff; color: var(--accent); vertical-align: 1px; }
  #events li.reset strong { color: var(--warn); }
  #empty { color: var(--muted); margin: 0; }
  [hidden] { display: none !important; }
</style>
</head>
<body>
<header><h1>kafka-sse-gateway</h1><span class="tag">live events from Kafka, per user</span></header>
<main>
  <section class="card">
    <form id="signin">
      <label for="user">User</label>
      <input id="user" name="user" value="alice" maxlength="64" required autocomplete="username"
        pattern="[A-Za-z0-9._\\-]{1,64}" title="1 to 64 letters, digits, dots, underscores or dashes">
      <button>Sign in and listen</button>
    </form>
    <p class="hint">Any name signs in: this is the demo's made-up sign-in, not for production.</p>
    <p id="error" role="alert"></p>
  </section>
  <section class="card" id="session" hidden>
    <div class="meta">
      <span>Signed in as <strong id="who"></strong></span>
      <span>Stream: <span id="status">not connected</span></span>
      <span id="tabs"></span>
    </div>
    <p class="hint">Publish events to this user from another terminal; every type shows up below:</p>
    <pre id="command"></pre>
  </section>
  <section class="card" id="feed" hidden>
    <h2>Events</h2>
    <p id="empty">Nothing yet: publish one.</p>
    <ol id="events"></ol>
  </section>
</main>
<script type="module">
  import { connect } from '/client.js';

  const $ = (id) => document.getElementById(id);
  const [form, userInput, status, tabs, list, errorLine] = ['signin', 'user', 'status', 'tabs', 'events', 'error'].map($);
  let client;
  let watcher;
  let signedInAs;
  /** Positions (topic/partition/offset) the broadcast watcher saw: those events went to everyone. */
  const broadcasts = new Set();

  function element(tag, content, cls) {
    const node = document.createElement(tag);
    node.textContent = content;
    if (cls) node.className = cls;
    return node;
  }
  function show(item) {
    $('empty').hidden = true;
    const time = new Date();
    const stamp = element('time', time.toLocaleTimeString());
    stamp.dateTime = time.toISOString();
    item.append(stamp);
    list.prepend(item);
  }
  function markBroadcast(item) {
    if (!item.querySelector('.badge')) item.querySelector('.where').append(element('span', 'broadcast', 'badge'));
  }
  function showEvent(event) {
    const position = event.topic + '/' + event.partition + '/' + event.offset;
    const item = document.createElement('li');
    item.className = 'event';
    item.dataset.position = position;
    const line = document.createElement('div');
    line.append(element('strong', event.type + ' '), element('code', JSON.stringify(event.data)));
    item.append(line);
    line.append(element('div', position, 'where'));
    if (broadcasts.has(position)) markBroadcast(item);
    show(item);
  }
  function showStatus(event) {
    if (event.status === 'reset') return;
    const detail = event.status === 'reconnecting' ? ' (in ' + Math.round(event.inMs / 100) / 10 + ' s: ' + event.cause + ')'
      : event.error ? ' (' + event.error.message + ')' : '';
    status.textContent = event.status + detail;
    status.className = event.status;
    tabs.textContent = event.tabs === 1 ? '1 tab on this connection'
      : event.tabs + ' tabs share one connection' + (event.leader ? ', held by this tab' : '');
    tabs.dataset.count = String(event.tabs);
  }

  /** The demo's sign-in; a real app gets its access token from its own identity provider. */
  async function signIn(user) {
    const response = await fetch('/demo/token', {
      method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ user }),
    });
    const body = await response.json().catch(() => ({}));
    if (!response.ok) {
      const message = Array.isArray(body.message) ? body.message.join('; ') : body.message;
      const error = new Error(message || 'sign-in failed (' + response.status + ')');
      error.status = response.status;
      throw error;
    }
    return body.token;
  }

  /**
   * A broadcast reaches every user, a targeted event only its own: a second stream, for a user
   * nobody else is, sees exactly the broadcasts. Shared by every tab of this browser.
   */
  function watchBroadcasts() {
    if (watcher) return;
    let name = localStorage.getItem('demo-watcher');
    if (!name) localStorage.setItem('demo-watcher', (name = 'broadcasts.' + crypto.randomUUID().slice(0, 8)));
    watcher = connect({ getToken: () => signIn(name), shareKey: 'demo-watcher:' + name });
    watcher.onAny((event) => {
      const position = event.topic + '/' + event.partition + '/' + event.offset;
      broadcasts.add(position);
      if (broadcasts.size > 1000) broadcasts.delete(broadcasts.values().next().value);
      const item = list.querySelector('li[data-position="' + CSS.escape(position) + '"]');
      if (item) markBroadcast(item);
    });
  }

  async function listen(user) {
    errorLine.textContent = '';
    let first;
    try {
      first = await signIn(user);
    } catch (error) {
      // Nothing is kept of a name the gateway refused: no stream, no saved name.
      errorLine.textContent = 'Sign-in refused: ' + error.message;
      return;
    }
    localStorage.setItem('demo-user', user);
    if (signedInAs !== user) {
      list.replaceChildren();
      $('empty').hidden = false;
    }
    signedInAs = user;
    $('who').textContent = user;
    $('session').hidden = false;
    $('feed').hidden = false;
    $('command').textContent = [
      "npm run publish -- --user " + user + " --type order.created --data '{\\"orderId\\":\\"o-17\\",\\"total\\":42.5}'",
      "npm run publish -- --user " + user + " --type hello --data '{\\"x\\":1}'",
      "npm run publish -- --broadcast --type notification --data '\\"maintenance at 18:00\\"'",
    ].join('\\n');
    client?.close();
    const mine = connect({
      getToken: async () => {
        if (first) {
          const token = first;
          first = undefined;
          return token;
        }
        try {
          return await signIn(user);
        } catch (error) {
          // Refused for good: say why and stop, rather than retry a request that cannot pass.
          if (error.status >= 400 && error.status < 500) {
            errorLine.textContent = 'Sign-in refused: ' + error.message;
            setTimeout(() => mine.close());
          }
          throw error;
        }
      },
      shareKey: 'demo:' + user,
    });
    client = mine;
    // A client closed on a switch of user may still report: only the current one is shown.
    mine.onStatus((event) => client === mine && showStatus(event));
    mine.onAny((event) => client === mine && showEvent(event));
    mine.onReset((reset) => {
      if (client !== mine) return;
      const item = element('li', '', 'reset');
      item.append(element('div', ''));
      item.firstChild.append(element('strong', 'reset '), element('span', reset.reason + ': ' + reset.message));
      show(item);
    });
    watchBroadcasts();
  }

  form.addEventListener('submit', (event) => {
    event.preventDefault();
    void listen(userInput.value);
  });
  // Another tab signed in already: join its stream.
  const remembered = localStorage.getItem('demo-user');
  if (remembered) {
    userInput.value = remembered;
    void listen(remembered);
  }
</script>
</body>
</html>
`;
