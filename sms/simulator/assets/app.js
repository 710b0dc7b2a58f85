// The texter simulator page. Message bodies are always inserted with textContent,
// never as HTML: whatever a texter or a responder writes stays text.
'use strict';

(function () {
  const $ = (id) => document.getElementById(id);
  const numberInput = $('number');
  const thread = $('thread');
  const empty = $('empty');
  const body = $('body');
  const sendButton = $('send');
  const resendButton = $('resend');
  const resendResult = $('resend-result');
  const errorBox = $('error');
  const connection = $('connection');
  const modeStatus = $('mode-status');
  const storageKey = 'hotline.simulator.number';

  let source = null;
  let number = '';
  let last = null; // the last text sent: {body, sid}

  function randomNumber() {
    let digits = '';
    for (let i = 0; i < 7; i++) digits += Math.floor(Math.random() * 10);
    return '+1555' + digits;
  }

  function showError(message) {
    errorBox.textContent = message || '';
  }

  // api sends JSON and returns the decoded answer, or throws the server's message.
  async function api(method, path, payload) {
    const options = { method, headers: { Accept: 'application/json' } };
    if (payload !== undefined) {
      options.headers['Content-Type'] = 'application/json';
      options.body = JSON.stringify(payload);
    }
    const res = await fetch(path, options);
    let data = null;
    try { data = await res.json(); } catch (_) { /* no JSON body */ }
    if (!res.ok) {
      const msg = data && data.error && data.error.message ? data.error.message : 'The request failed (' + res.status + ').';
      throw new Error(msg);
    }
    return data;
  }

  function statusLabel(status) {
    switch (status) {
      case 'sent': return '✓ Sent';
      case 'delivered': return '✓✓ Delivered';
      case 'failed': return 'Failed';
      case 'undelivered': return 'Not delivered';
      case 'received': return 'Received by the hotline';
      default: return status || '';
    }
  }

  function timeLabel(at) {
    const d = new Date(at);
    return isNaN(d) ? '' : d.toLocaleTimeString([], { hour: '2-digit', minute: '2-digit' });
  }

  function scrollDown() {
    thread.scrollTop = thread.scrollHeight;
  }

  function addMessage(ev) {
    const li = document.createElement('li');
    const fromPhone = ev.direction === 'from_phone';
    li.className = 'msg ' + (fromPhone ? 'texter' : 'hotline');
    li.dataset.sid = ev.sid || '';
    const text = document.createElement('div');
    text.className = 'text';
    text.textContent = ev.body;
    const meta = document.createElement('div');
    meta.className = 'meta';
    const time = document.createElement('span');
    time.textContent = timeLabel(ev.at);
    const status = document.createElement('span');
    status.className = 'status status-' + (ev.status || '');
    status.textContent = statusLabel(ev.status);
    meta.append(time, status);
    li.append(text, meta);
    thread.append(li);
    empty.hidden = true;
  }

  function addNotice(ev) {
    const li = document.createElement('li');
    li.className = 'notice';
    li.textContent = ev.body;
    thread.append(li);
    empty.hidden = true;
  }

  function updateStatus(ev) {
    for (const li of thread.querySelectorAll('li.msg')) {
      if (li.dataset.sid === ev.sid) {
        const status = li.querySelector('.status');
        status.className = 'status status-' + ev.status;
        status.textContent = statusLabel(ev.status);
      }
    }
  }

  function handle(ev) {
    if (ev.type === 'message') addMessage(ev);
    else if (ev.type === 'status') updateStatus(ev);
    else if (ev.type === 'notice') addNotice(ev);
    scrollDown();
  }

  function connect() {
    number = numberInput.value.trim();
    localStorage.setItem(storageKey, number);
    if (source) source.close();
    thread.replaceChildren();
    empty.hidden = false;
    last = null;
    resendButton.disabled = true;
    resendResult.textContent = '';
    showError('');
    connection.textContent = 'Connecting…';
    source = new EventSource('/simulator/events?number=' + encodeURIComponent(number));
    source.onopen = () => {
      // The server replays the phone's history on every connection.
      thread.replaceChildren();
      empty.hidden = false;
      connection.textContent = 'Connected';
      connection.className = 'connection ok';
    };
    source.onmessage = (e) => handle(JSON.parse(e.data));
    source.onerror = () => {
      const closed = source.readyState === EventSource.CLOSED;
      connection.textContent = closed ? 'Not connected — is the number valid?' : 'Reconnecting…';
      connection.className = 'connection';
    };
  }

  async function send(payload) {
    showError('');
    return api('POST', '/simulator/messages', payload);
  }

  $('phone-form').addEventListener('submit', (e) => {
    e.preventDefault();
    connect();
  });

  $('new-number').addEventListener('click', () => {
    numberInput.value = randomNumber();
    connect();
  });

  $('composer').addEventListener('submit', async (e) => {
    e.preventDefault();
    const text = body.value;
    if (text.trim() === '') return;
    sendButton.disabled = true;
    try {
      const res = await send({ from: number, body: text });
      last = { body: text, sid: res.sid };
      body.value = '';
      resendButton.disabled = false;
      resendResult.textContent = '';
    } catch (err) {
      showError(err.message);
    } finally {
      sendButton.disabled = false;
      body.focus();
    }
  });

  body.addEventListener('keydown', (e) => {
    if (e.key === 'Enter' && !e.shiftKey && !e.isComposing) {
      e.preventDefault();
      $('composer').requestSubmit();
    }
  });

  resendButton.addEventListener('click', async () => {
    if (!last) return;
    try {
      const res = await send({ from: number, body: last.body, sid: last.sid });
      resendResult.textContent = res.duplicate
        ? 'MessageSid ' + res.sid + ' was already stored: the hotline ignored the repeat.'
        : 'The hotline stored it as a new text.';
    } catch (err) {
      showError(err.message);
    }
  });

  const modeInputs = document.querySelectorAll('input[name="mode"]');
  for (const input of modeInputs) {
    input.addEventListener('change', async () => {
      try {
        const res = await api('POST', '/simulator/mode', { mode: input.value });
        modeStatus.textContent = res.mode === 'normal' ? '' : 'The next texts the hotline sends will fail.';
      } catch (err) {
        showError(err.message);
      }
    });
  }

  api('GET', '/simulator/mode').then((res) => {
    for (const input of modeInputs) input.checked = input.value === res.mode;
    modeStatus.textContent = res.mode === 'normal' ? '' : 'The next texts the hotline sends will fail.';
  }).catch((err) => showError(err.message));

  numberInput.value = localStorage.getItem(storageKey) || randomNumber();
  connect();
})();
