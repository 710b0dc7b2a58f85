// The automatic texts per language: edit, save (PUT /api/v1/settings/texts), or go
// back to the configuration.

import { shell } from '../shell.js';
import { api } from '../api.js';
import { $, h, clear } from '../dom.js';

const FIELDS = [['welcome', 'Welcome (first reply: emergency number and STOP notice)'], ['help', 'Help (answer to HELP)'],
  ['after_hours', 'After hours (nobody on call)'], ['closing', 'Closing (inactivity; empty sends nothing)'],
  ['opt_out', 'Opt-out confirmation (after STOP; empty sends nothing)'], ['opt_in', 'Opt-in confirmation (after START)']];
let view = null;

function section(lang, texts, edited) {
  const box = h('fieldset', { class: 'panel texts-lang', dataset: { lang } },
    h('legend', { text: `${lang}${lang === view.default_language ? ' (default language)' : ''}${edited ? ' · edited' : ' · from the configuration'}` }));
  for (const [key, label] of FIELDS) {
    const id = `t-${lang}-${key}`;
    box.append(h('div', { class: 'field' }, h('label', { text: label, attrs: { for: id } }),
      h('textarea', { text: texts[key] || '', attrs: { id, rows: 3, 'data-field': key } })));
  }
  return box;
}

function render() {
  const langs = clear($('languages'));
  for (const lang of Object.keys(view.effective).sort()) {
    langs.append(section(lang, view.effective[lang], Boolean(view.edited[lang])));
  }
}

async function load() {
  view = await api('GET', '/api/v1/settings/texts');
  render();
}

function collect() {
  const out = {};
  for (const box of document.querySelectorAll('.texts-lang')) {
    const t = {};
    for (const ta of box.querySelectorAll('textarea')) t[ta.dataset.field] = ta.value;
    const conf = view.configured[box.dataset.lang];
    // Only languages that differ from the configuration are stored as edited.
    if (!conf || FIELDS.some(([k]) => (conf[k] || '') !== t[k])) out[box.dataset.lang] = t;
  }
  return out;
}

async function save(texts) {
  $('texts-error').textContent = '';
  try {
    view = await api('PUT', '/api/v1/settings/texts', { texts });
    render();
    shell.toast('Saved: the hotline sends these texts from now on.');
  } catch (err) {
    $('texts-error').textContent = err.message;
  }
}

$('texts-form').addEventListener('submit', (e) => { e.preventDefault(); save(collect()); });
$('reset').addEventListener('click', () => {
  if (confirm('Forget every edited text and send the configured ones again?')) save({});
});
$('add-lang').addEventListener('click', () => {
  const lang = $('new-lang').value.trim();
  if (!lang || view.effective[lang]) return;
  view.effective[lang] = {};
  render();
  $('new-lang').value = '';
});

await shell.start();
document.body.dataset.ready = 'true';
shell.listen();
await load();
