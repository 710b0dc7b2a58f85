// Exports and API tokens. A download is a plain GET of /api/v1/export with the
// filters as query parameters: the browser streams it to a file.

import { shell } from '../shell.js';
import { api } from '../api.js';
import { $, h, clear, clock } from '../dom.js';

function exportURL() {
  const q = new URLSearchParams();
  for (const id of ['format', 'from', 'to', 'state', 'disposition', 'tag', 'responder', 'ids']) {
    const v = $(id).value.trim();
    if (v) q.set(id, v);
  }
  for (const id of ['notes', 'mask_bodies', 'reveal']) if ($(id).checked) q.set(id, 'true');
  return '/api/v1/export?' + q.toString();
}

$('export-form').addEventListener('submit', async (e) => {
  e.preventDefault();
  $('export-error').textContent = '';
  const url = exportURL();
  try {
    await api('GET', url + '&check=1'); // validates the filters: 204, or an error to show
  } catch (err) {
    $('export-error').textContent = err.message;
    return;
  }
  location.assign(url);
  shell.announce('The download has started.');
});

async function loadTokens() {
  const { api_tokens: list } = await api('GET', '/api/v1/tokens');
  const body = clear($('tokens'));
  for (const t of list) {
    body.append(h('tr', {},
      h('td', { text: t.name }), h('td', { text: clock(t.created_at) }),
      h('td', { text: t.last_used_at ? clock(t.last_used_at) : 'never' }),
      h('td', { text: t.expires_at ? clock(t.expires_at) : 'never' }),
      h('td', {}, h('button', { class: 'danger small', text: 'Revoke', attrs: { type: 'button' }, on: { click: () => revoke(t) } }))));
  }
}

async function revoke(t) {
  if (!confirm(`Revoke the token "${t.name}"? Scripts using it stop working at once.`)) return;
  try {
    await api('DELETE', '/api/v1/tokens/' + encodeURIComponent(t.id));
    shell.toast('Token revoked.');
    await loadTokens();
  } catch (err) {
    shell.toast(err.message, { error: true });
  }
}

$('token-form').addEventListener('submit', async (e) => {
  e.preventDefault();
  try {
    const res = await api('POST', '/api/v1/tokens', { name: $('token-name').value, expires_in_days: Number($('token-days').value) || 0 });
    $('token-new').textContent = 'Copy this token now; it is not shown again: ' + res.token;
    $('token-name').value = '';
    await loadTokens();
  } catch (err) {
    shell.toast(err.message, { error: true });
  }
});

async function loadKey() {
  try {
    const k = await api('GET', '/api/v1/key');
    $('signing-key').textContent = k.public_key;
    $('signing-fingerprint').textContent = k.fingerprint;
  } catch (err) {
    $('signing-key').textContent = err.message;
  }
}

await shell.start();
document.body.dataset.ready = 'true';
shell.listen();
await Promise.all([loadTokens(), loadKey()]);
