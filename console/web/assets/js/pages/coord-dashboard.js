// The coordinators' dashboard: who waits, who is on call, the week's numbers and
// two charts rendered by the server as SVG. Refreshed on live events (at most every
// few seconds) and every 30 seconds.

import { shell } from '../shell.js';
import { api } from '../api.js';
import { $, h, clear, duration } from '../dom.js';

let pending = null;
let last = 0;

async function load() {
  last = Date.now();
  try {
    const d = await api('GET', '/api/v1/dashboard');
    render(d);
  } catch (err) {
    shell.toast(err.message, { error: true });
  }
}

function refreshSoon() {
  if (pending) return;
  const wait = Math.max(0, 3000 - (Date.now() - last));
  pending = setTimeout(() => { pending = null; load(); }, wait);
}

function render(d) {
  const week = d.last_7_days;
  $('updated').textContent = new Date(d.now).toLocaleTimeString();
  $('stat-waiting').textContent = String(d.waiting.length);
  $('stat-longest').textContent = d.waiting.length ? duration(d.longest_wait_seconds * 1000) : '—';
  $('stat-today').textContent = String(d.today.conversations);
  $('stat-median').textContent = week.first_replies ? duration(week.first_reply_median_seconds * 1000) : '—';
  $('stat-p90').textContent = week.first_replies ? duration(week.first_reply_p90_seconds * 1000) : '—';
  $('stat-noreply').textContent = String(week.closed_without_reply);
  const waiting = clear($('waiting'));
  for (const w of d.waiting) {
    waiting.append(h('tr', { class: w.priority === 'urgent' ? 'urgent' : '' },
      h('td', {}, h('a', { text: w.handle, attrs: { href: '/?conversation=' + encodeURIComponent(w.conversation_id) } })),
      h('td', { text: w.priority }), h('td', { text: w.language || '—' }), h('td', { text: duration(w.wait_seconds * 1000) })));
  }
  $('waiting-empty').hidden = d.waiting.length > 0;
  const team = clear($('team'));
  for (const r of d.responders) {
    const onCall = r.on_call === null ? 'unknown' : (r.on_call ? 'yes' : 'no');
    team.append(h('tr', {},
      h('td', { text: r.display_name }), h('td', { text: onCall }), h('td', { text: r.availability }),
      h('td', { text: `${r.open} of ${r.capacity}` })));
  }
  const bust = '?t=' + Date.now();
  $('chart-tph').src = '/api/v1/dashboard/charts/texts-per-hour.svg' + bust;
  $('chart-wait').src = '/api/v1/dashboard/charts/wait-times.svg' + bust;
}

await shell.start();
document.body.dataset.ready = 'true';
for (const kind of ['conversation', 'message']) shell.events.on(kind, refreshSoon);
shell.listen();
await load();
setInterval(load, 30000);
