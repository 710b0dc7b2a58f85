// Retention: the policy in force, what the next purge would delete (counts only),
// and legal holds on conversations.

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
    await load();
  } catch (err) {
    $('hold-result').textContent = err.message;
  }
}

$('hold-form').addEventListener('submit', (e) => { e.preventDefault(); hold('POST'); });
$('hold-release').addEventListener('click', () => hold('DELETE'));

await shell.start();
document.body.dataset.ready = 'true';
shell.listen();
await load();
