/**
 * The demo page: signs in as a made-up user and shows that user's live events of every type,
 * through the browser client (`client/`, served at /demo/kafka-sse-client.js). Tabs of the same
 * user share one stream; the page says how many.
 */
export const DEMO_PAGE = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>kafka-sse-gateway demo</title>
<style>
  body { font: 15px/1.5 system-ui, sans-serif; max-width: 52rem; margin: 2rem auto; padding: 0 1rem; color: #1d1d1f; }
  code, pre { font: 13px ui-monospace, monospace; background: #f3f3f5; border-radius: 4px; }
  pre { padding: .75rem; overflow-x: auto; }
  #status { font-weight: 600; }
  .live { color: #0a7a2f; } .connecting, .reconnecting { color: #8a5a00; } .closed { color: #b3261e; }
  li { margin: .4rem 0; } li code { display: inline-block; padding: .1rem .3rem; }
  li.reset { color: #8a5a00; } .where { color: #6e6e73; font-size: 12px; }
</style>
</head>
<body>
<h1>kafka-sse-gateway</h1>
<form id="signin">
  Signed in as <input id="user" value="alice" size="12" pattern="[A-Za-z0-9._-]{1,64}" required>
  <button>Sign in and listen</button>
</form>
<p>Stream: <span id="status">not connected</span> · <span id="tabs"></span></p>
<p>Publish events to this user from another terminal; every type shows up here:</p>
<pre id="command"></pre>
<h2>Events</h2>
<ol id="events"></ol>
<script type="module">
  import { connect } from '/client.js';

  const form = document.getElementById('signin');
  const userInput = document.getElementById('user');
  const status = document.getElementById('status');
  const tabs = document.getElementById('tabs');
  const list = document.getElementById('events');
  let client;

  function line(cls, ...parts) {
    const item = document.createElement('li');
    item.className = cls;
    item.append(...parts);
    list.prepend(item);
  }
  function text(tag, content, cls) {
    const element = document.createElement(tag);
    element.textContent = content;
    if (cls) element.className = cls;
    return element;
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

  async function listen(user) {
    localStorage.setItem('demo-user', user);
    document.getElementById('command').textContent = [
      "npm run publish -- --user " + user + " --type order.created --data '{\\"orderId\\":\\"o-17\\",\\"total\\":42.5}'",
      "npm run publish -- --user " + user + " --type hello --data '{\\"x\\":1}'",
      "npm run publish -- --broadcast --type notification --data '\\"maintenance at 18:00\\"'",
    ].join('\\n');
    client?.close();
    client = connect({
      // The demo's token endpoint signs in anyone; a real app returns its own access token.
      getToken: async () => {
        const response = await fetch('/demo/token', {
          method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ user }),
        });
        if (!response.ok) throw new Error('sign-in failed: ' + response.status);
        return (await response.json()).token;
      },
      shareKey: 'demo:' + user,
    });
    client.onStatus(showStatus);
    client.onAny((event) =>
      line('event', text('strong', event.type + ' '), text('code', JSON.stringify(event.data)),
        text('span', ' ' + event.topic + '/' + event.partition + '/' + event.offset, 'where')));
    client.onReset((reset) => line('reset', text('strong', 'reset '), text('span', reset.reason + ': ' + reset.message)));
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
