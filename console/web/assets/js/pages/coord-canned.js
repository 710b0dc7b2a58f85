// Canned responses: list, add, edit, delete (GET/POST/PATCH/DELETE
// /api/v1/canned-responses), with a preview of the text as a responder would insert
// it, placeholders filled in, and its SMS segments.

import { shell } from '../shell.js';
import { api } from '../api.js';
import { $, h, clear, clock, fullTime } from '../dom.js';
import { countSegments } from '../segments.js';
import { expandPlaceholders, unknownPlaceholders } from '../placeholders.js';

// A handle to show in the preview: what responders see instead of a number.
const SAMPLE_HANDLE = 'T-4821';
let me = null;
let settings = { max_segments: 10, canned_placeholders: ['responder', 'handle'] };
let list = [];

async function load() {
  ({ canned_responses: list } = await api('GET', '/api/v1/canned-responses'));
  const rows = clear($('canned-rows'));
  for (const c of list) {
    rows.append(h('tr', { dataset: { id: c.id } },
      h('th', { attrs: { scope: 'row' }, text: c.title }),
      h('td', { text: c.language || 'any' }),
      h('td', { class: 'canned-cell', text: c.body }),
      h('td', {}, h('time', { attrs: { datetime: c.updated_at, title: fullTime(c.updated_at) }, text: clock(c.updated_at) })),
      h('td', { class: 'row-actions' },
        h('button', { class: 'small', text: 'Edit', attrs: { type: 'button', 'aria-label': `Edit ${c.title}` }, on: { click: () => edit(c) } }), ' ',
        h('button', { class: 'small danger', text: 'Delete', attrs: { type: 'button', 'aria-label': `Delete ${c.title}` }, on: { click: () => remove(c) } }))));
  }
  $('canned-empty').hidden = list.length > 0;
  $('canned-count').textContent = list.length ? `(${list.length})` : '';
}

function edit(c) {
  $('edit-heading').textContent = `Edit “${c.title}”`;
  $('canned-id').value = c.id;
  $('canned-title').value = c.title;
  $('canned-language').value = c.language;
  $('canned-body').value = c.body;
  $('canned-save').textContent = 'Save';
  $('canned-cancel').hidden = false;
  $('canned-error').textContent = '';
  preview();
  $('canned-title').focus();
}

function reset() {
  $('canned-form').reset();
  $('canned-id').value = '';
  $('edit-heading').textContent = 'Add a canned response';
  $('canned-save').textContent = 'Add';
  $('canned-cancel').hidden = true;
  preview();
}

async function remove(c) {
  if (!confirm(`Delete the canned response “${c.title}”? Responders can no longer insert it.`)) return;
  try {
    await api('DELETE', '/api/v1/canned-responses/' + c.id);
    if ($('canned-id').value === c.id) reset();
    await load();
    shell.toast(`Deleted “${c.title}”.`);
  } catch (err) {
    shell.toast(err.message, { error: true });
  }
}

// preview shows the text as a responder would insert it: this coordinator's name
// for {{responder}} and a sample handle for {{handle}}, with its SMS segments.
function preview() {
  const body = $('canned-body').value;
  const name = me ? me.display_name || me.username : 'the responder';
  $('preview-lead').textContent = `As ${name} would insert it in a conversation with ${SAMPLE_HANDLE} (each responder sees their own name):`;
  $('canned-preview').textContent = body ? expandPlaceholders(body, { responder: name, handle: SAMPLE_HANDLE }) : '—';
  const unknown = unknownPlaceholders(body, settings.canned_placeholders || []);
  const s = countSegments(expandPlaceholders(body, { responder: name, handle: SAMPLE_HANDLE }));
  const max = settings.max_segments || 10;
  $('canned-segments').textContent = body ? `${s.units} characters · ${s.segments} SMS · ${s.encoding}` : '';
  const warnings = [];
  if (unknown.length) warnings.push(`Not a placeholder: ${unknown.map((n) => `{{${n}}}`).join(', ')}. Use {{responder}} or {{handle}}.`);
  if (s.segments > max) warnings.push(`This text needs ${s.segments} SMS; the hotline sends at most ${max}.`);
  $('canned-warning').textContent = warnings.join(' ');
}

function insertPlaceholder(name) {
  const ta = $('canned-body');
  const text = `{{${name}}}`;
  const start = ta.selectionStart ?? ta.value.length;
  const end = ta.selectionEnd ?? ta.value.length;
  ta.value = ta.value.slice(0, start) + text + ta.value.slice(end);
  ta.focus();
  ta.setSelectionRange(start + text.length, start + text.length);
  preview();
}

async function save(e) {
  e.preventDefault();
  $('canned-error').textContent = '';
  const fields = { title: $('canned-title').value, body: $('canned-body').value, language: $('canned-language').value.trim() };
  const id = $('canned-id').value;
  try {
    if (id) await api('PATCH', '/api/v1/canned-responses/' + id, fields);
    else await api('POST', '/api/v1/canned-responses', fields);
    reset();
    await load();
    shell.toast(id ? 'Saved.' : 'Added: responders can insert it now.');
  } catch (err) {
    $('canned-error').textContent = err.message;
  }
}

$('canned-form').addEventListener('submit', save);
$('canned-cancel').addEventListener('click', reset);
$('canned-body').addEventListener('input', preview);
for (const b of document.querySelectorAll('[data-placeholder]')) b.addEventListener('click', () => insertPlaceholder(b.dataset.placeholder));

me = await shell.start();
try {
  settings = await api('GET', '/api/v1/settings');
} catch (err) {
  shell.toast('Could not load the console settings: ' + err.message, { error: true });
}
shell.listen();
preview();
await load();
document.body.dataset.ready = 'true';
