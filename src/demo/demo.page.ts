/** The demo page: signs in as a made-up user and shows that user's live events. */
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
  .open { color: #0a7a2f; } .closed { color: #b3261e; }
  li { margin: .4rem 0; } li code { display: inline-block; padding: .1rem .3rem; }
</style>
</head>
<body>
<h1>kafka-sse-gateway</h1>
<form id="signin">
  Signed in as <input id="user" value="alice" size="12" pattern="[A-Za-z0-9._-]{1,64}" required>
  <button>Sign in and listen</button>
  <span id="status">not connected</span>
</form>
<p>Publish an event to this user from another terminal:</p>
<pre id="command"></pre>
<h2>Events</h2>
<ol id="events"></ol>
<script type="module">
  const form = document.getElementById('signin');
  const status = document.getElementById('status');
  const list = document.getElementById('events');
  let source;
  function show(text, cls) { status.textContent = text; status.className = cls; }
  function add(event) {
    const item = document.createElement('li');
    const type = document.createElement('strong');
    type.textContent = event.type + ' ';
    const data = document.createElement('code');
    data.textContent = event.data;
    item.append(type, data);
    item.title = 'id: ' + event.lastEventId;
    list.prepend(item);
  }
  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    const user = document.getElementById('user').value;
    const response = await fetch('/demo/token', {
      method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ user }),
    });
    if (!response.ok) return show('sign-in failed: ' + response.status, 'closed');
    document.getElementById('command').textContent =
      "npm run publish -- --user " + user + " --type hello --data '{\\"x\\":1}'";
    source?.close();
    source = new EventSource('/events', { withCredentials: true });
    source.onopen = () => show('live', 'open');
    source.onerror = () => show(source.readyState === EventSource.CLOSED ? 'closed' : 'reconnecting…', 'closed');
    source.onmessage = add;
    for (const type of ['hello', 'notification', 'reset']) source.addEventListener(type, add);
  });
</script>
</body>
</html>
`;
