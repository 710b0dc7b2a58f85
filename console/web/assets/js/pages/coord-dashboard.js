// The coordinators' dashboard: who waits, who is on call, the week's numbers and
// two charts rendered by the server as SVG. Refreshed on live events (at most every
// few seconds) and every 30 seconds.

import { shell } from '../shell.js';
import { api } from '../api.js';
import { $, h, clear, duration, clock } from '../dom.js';

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
      h('td', {}, h('button', { class: 'link-button', text: w.handle, attrs: { type: 'button' }, on: { click: () => openConversation(w.conversation_id) } })),
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
  names = new Map(d.responders.map((r) => [r.id, r.display_name]));
  loadLive().catch((err) => shell.toast(err.message, { error: true }));
  const bust = '?t=' + Date.now();
  $('chart-tph').src = '/api/v1/dashboard/charts/texts-per-hour.svg' + bust;
  $('chart-wait').src = '/api/v1/dashboard/charts/wait-times.svg' + bust;
}

let names = new Map();
let viewing = null;

async function loadLive() {
  const { conversations } = await api('GET', '/api/v1/conversations?state=waiting,assigned,active');
  const body = clear($('live'));
  for (const c of conversations) {
    body.append(h('tr', { class: c.priority === 'urgent' ? 'urgent' : '' },
      h('td', { text: c.handle }), h('td', { text: c.state }),
      h('td', { text: c.assignee_id ? names.get(c.assignee_id) || '?' : '—' }), h('td', { text: clock(c.created_at) }),
      h('td', {}, h('button', { class: 'small', text: 'Open', attrs: { type: 'button' }, on: { click: () => openConversation(c.id) } }))));
  }
}

// openConversation shows a thread read-only (the server audits the view).
async function openConversation(id) {
  try {
    const { conversation: c, messages } = await api('GET', '/api/v1/conversations/' + encodeURIComponent(id));
    viewing = c;
    $('viewer-title').textContent = `${c.handle} · ${c.state}${c.assignee_id ? ' · with ' + (names.get(c.assignee_id) || '?') : ''}`;
    const list = clear($('viewer-messages'));
    for (const m of messages) {
      const who = m.direction === 'inbound' ? 'Texter' : m.author_id ? names.get(m.author_id) || 'Responder' : 'Hotline';
      list.append(h('li', { class: 'viewer-msg ' + m.direction },
        h('span', { class: 'hint', text: `${clock(m.created_at)} · ${m.direction} · ${who}` }), h('p', { text: m.body })));
    }
    const sel = clear($('reassign-to'));
    sel.append(h('option', { text: 'The queue (nobody)', attrs: { value: '' } }));
    for (const [rid, name] of names) if (rid !== c.assignee_id) sel.append(h('option', { text: name, attrs: { value: rid } }));
    $('viewer').hidden = false;
    $('viewer-title').scrollIntoView({ block: 'nearest' });
  } catch (err) {
    shell.toast(err.message, { error: true });
  }
}

$('viewer-close').addEventListener('click', () => { $('viewer').hidden = true; viewing = null; });
$('reassign-form').addEventListener('submit', async (e) => {
  e.preventDefault();
  if (!viewing) return;
  try {
    await api('POST', `/api/v1/conversations/${encodeURIComponent(viewing.id)}/transfer`,
      { to: $('reassign-to').value || null, note: $('reassign-note').value });
    shell.toast(`${viewing.handle} reassigned.`);
    $('viewer').hidden = true;
    $('reassign-note').value = '';
    await load();
  } catch (err) {
    shell.toast(err.message, { error: true });
  }
});

await shell.start();
document.body.dataset.ready = 'true';
for (const kind of ['conversation', 'message']) shell.events.on(kind, refreshSoon);
shell.listen();
await load();
setInterval(load, 30000);
