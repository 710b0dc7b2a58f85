// The audit log, newest first, a page at a time.

import { shell } from '../shell.js';
import { api } from '../api.js';
import { $, h, fullTime } from '../dom.js';

let before = '';

async function more() {
  const res = await api('GET', '/api/v1/audit?limit=100' + (before ? '&before=' + encodeURIComponent(before) : ''));
  for (const e of res.entries) {
    const detail = Object.entries(e.detail).map(([k, v]) => `${k}: ${v}`).join('; ');
    $('entries').append(h('tr', {},
      h('td', { text: fullTime(e.at) }), h('td', { text: e.actor_username || '—' }), h('td', { text: e.action }),
      h('td', { text: [e.target_type, e.target_id].filter(Boolean).join(' ') }), h('td', { text: detail }),
      h('td', { text: e.remote_addr || '' })));
  }
  before = res.next_before || '';
  $('older').hidden = !before;
}

$('older').addEventListener('click', () => more().catch((err) => shell.toast(err.message, { error: true })));

await shell.start();
document.body.dataset.ready = 'true';
shell.listen();
await more();
