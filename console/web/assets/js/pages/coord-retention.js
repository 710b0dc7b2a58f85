// Retention: the policy in force, what the next purge would delete (counts only),
// legal holds on conversations, and the list of conversations under one
// (GET /api/v1/holds).

import { shell } from '../shell.js';
import { api } from '../api.js';
import { $, h, clear, clock } from '../dom.js';

async function load() {
  const r = await api('GET', '/api/v1/retention');
  const w = r.would_purge;
  $('policy').textContent = r.days === 0
    ? 'Closed conversations are kept forever (retention.days is 0).'
    : `Closed conversations are kept ${r.days} days after they close.`;
  const dl = clear($('would-purge'));
  if (r.days > 0) {
    const rows = [['Closed before', w.cutoff ? clock(w.cutoff) : '—'], ['Conversations the next purge deletes', w.conversations],
      ['Messages', w.messages], ['Texters forgotten', w.contacts_deleted], ['…kept as opted out', w.contacts_kept_opted_out],
      ['Kept by a legal hold', w.held]];
    for (const [k, v] of rows) dl.append(h('dt', { text: k }), h('dd', { text: String(v) }));
  }
}

async function loadHolds() {
  const { holds } = await api('GET', '/api/v1/holds');
  const rows = clear($('held-rows'));
  for (const c of holds) {
    rows.append(h('tr', { dataset: { id: c.id } },
      h('th', { attrs: { scope: 'row' }, text: c.handle }),
      h('td', {}, h('code', { text: c.id })),
      h('td', { text: c.state }),
      h('td', { text: clock(c.created_at) }),
      h('td', { text: c.closed_at ? clock(c.closed_at) : '—' }),
      h('td', { text: c.disposition || '—' }),
      h('td', {}, h('button', { class: 'small', text: 'Release hold', attrs: { type: 'button', 'aria-label': `Release the hold on ${c.handle}` },
        on: { click: () => release(c) } }))));
  }
  $('held-empty').hidden = holds.length > 0;
  $('held-count').textContent = holds.length ? `(${holds.length})` : '';
}

async function release(c) {
  const reason = prompt(`Release the legal hold on ${c.handle}? Once released it is purged with the others when its time comes. Reason (recorded in the audit log):`, '');
  if (reason === null) return;
  try {
    await api('DELETE', `/api/v1/conversations/${encodeURIComponent(c.id)}/hold`, { reason });
    shell.toast(`${c.handle}: no legal hold.`);
    await Promise.all([load(), loadHolds()]);
  } catch (err) {
    shell.toast(err.message, { error: true });
  }
}

async function hold(method) {
  const id = $('hold-id').value.trim();
  if (!id) {
    $('hold-result').textContent = 'Write the conversation ID (from its page, or an export).';
    return;
  }
  try {
    const res = await api(method, `/api/v1/conversations/${encodeURIComponent(id)}/hold`, { reason: $('hold-reason').value });
    const c = res.conversation;
    $('hold-result').textContent = `${c.handle}: ${c.legal_hold ? 'under a legal hold' : 'no legal hold'}.`;
    shell.toast($('hold-result').textContent);
    await Promise.all([load(), loadHolds()]);
  } catch (err) {
    $('hold-result').textContent = err.message;
  }
}

$('hold-form').addEventListener('submit', (e) => { e.preventDefault(); hold('POST'); });
$('hold-release').addEventListener('click', () => hold('DELETE'));

await shell.start();
document.body.dataset.ready = 'true';
shell.listen();
await Promise.all([load(), loadHolds()]);
