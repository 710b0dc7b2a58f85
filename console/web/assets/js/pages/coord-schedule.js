// The schedule: a week view of the rotations, one-off overrides and closures, with
// forms to add them (the routing API, /api/v1/shifts).

import { shell } from '../shell.js';
import { api } from '../api.js';
import { $, h, clear, clock } from '../dom.js';

const DAYS = [['mon', 'Monday'], ['tue', 'Tuesday'], ['wed', 'Wednesday'], ['thu', 'Thursday'], ['fri', 'Friday'], ['sat', 'Saturday'], ['sun', 'Sunday']];
let names = new Map();

function fail(err) {
  $('sched-error').textContent = err.message;
}

async function load() {
  $('sched-error').textContent = '';
  const [{ users }, s, now] = await Promise.all([api('GET', '/api/v1/users'), api('GET', '/api/v1/shifts?from=' + new Date().toISOString()),
    api('GET', '/api/v1/oncall')]);
  names = new Map(users.map((u) => [u.id, u.display_name]));
  $('tz').textContent = s.timezone;
  $('oncall-now').textContent = now.responders.length ? now.responders.map((r) => r.display_name || names.get(r.id) || r.id).join(', ') : 'nobody';
  for (const sel of [$('rot-who'), $('ov-who')]) {
    clear(sel);
    for (const u of users.filter((x) => !x.disabled)) sel.append(h('option', { text: u.display_name, attrs: { value: u.id } }));
  }
  const week = clear($('week'));
  for (const [code, label] of DAYS) {
    const shifts = s.rotations.filter((r) => r.weekdays.includes(code)).sort((a, b) => a.start.localeCompare(b.start));
    const col = h('div', { class: 'week-day' }, h('h3', { text: label }));
    const list = h('ul', { class: 'week-shifts' });
    for (const r of shifts) {
      list.append(h('li', {}, h('span', { text: `${r.start}–${r.end} ${names.get(r.responder_id) || '?'}` }), ' ',
        h('button', { class: 'link-button', text: 'remove', attrs: { type: 'button', 'aria-label': `Remove ${names.get(r.responder_id)}'s ${label} ${r.start} rotation` },
          on: { click: () => del('/api/v1/shifts/rotations/' + r.id) } })));
    }
    if (!shifts.length) list.append(h('li', { class: 'empty', text: 'nobody scheduled' }));
    col.append(list);
    week.append(col);
  }
  const body = clear($('overrides'));
  const rows = [...s.overrides.map((o) => ({ ...o, path: '/api/v1/shifts/overrides/' + o.id })),
    ...s.closures.map((c) => ({ ...c, kind: 'closure', note: c.reason, path: '/api/v1/shifts/closures/' + c.id }))];
  rows.sort((a, b) => a.start.localeCompare(b.start));
  for (const o of rows) {
    body.append(h('tr', {}, h('td', { text: o.kind }), h('td', { text: o.responder_id ? names.get(o.responder_id) || '?' : 'everyone' }),
      h('td', { text: clock(o.start) }), h('td', { text: clock(o.end) }), h('td', { text: o.note || '' }),
      h('td', {}, h('button', { class: 'small danger', text: 'Delete', attrs: { type: 'button' }, on: { click: () => del(o.path) } }))));
  }
}

async function del(path) {
  try {
    await api('DELETE', path);
    await load();
  } catch (err) {
    fail(err);
  }
}

$('rot-form').addEventListener('submit', async (e) => {
  e.preventDefault();
  try {
    await api('POST', '/api/v1/shifts/rotations', { responder_id: $('rot-who').value,
      weekdays: $('rot-days').value.split(',').map((s) => s.trim()).filter(Boolean), start: $('rot-start').value, end: $('rot-end').value });
    await load();
  } catch (err) {
    fail(err);
  }
});

$('ov-form').addEventListener('submit', async (e) => {
  e.preventDefault();
  const iso = (v) => (v ? new Date(v).toISOString() : '');
  const kind = $('ov-kind').value;
  try {
    if (kind === 'closure') {
      await api('POST', '/api/v1/shifts/closures', { start: iso($('ov-start').value), end: iso($('ov-end').value), reason: $('ov-note').value });
    } else {
      await api('POST', '/api/v1/shifts/overrides', { responder_id: $('ov-who').value, kind,
        start: iso($('ov-start').value), end: iso($('ov-end').value), note: $('ov-note').value });
    }
    await load();
  } catch (err) {
    fail(err);
  }
});

await shell.start();
document.body.dataset.ready = 'true';
shell.events.on('schedule', () => load().catch(fail));
shell.listen();
await load().catch(fail);
