// Dispositions and tags: the close dialog's lists, edited one per line (PUT
// /api/v1/settings/dispositions), or back to the configuration (DELETE).

import { shell } from '../shell.js';
import { api } from '../api.js';
import { $ } from '../dom.js';

let view = null;

function render() {
  $('dispositions').value = view.dispositions.join('\n');
  $('tags').value = view.tags.join('\n');
  $('lists-source').textContent = view.edited
    ? 'These lists were edited in the console: they replace the configuration’s.'
    : 'These lists come from the configuration (conversation.dispositions and conversation.tags).';
  $('lists-reset').disabled = !view.edited;
  const conf = view.configured;
  $('disp-configured').textContent = 'In the configuration: ' + (conf.dispositions.join(' · ') || 'none') + '.';
  $('tags-configured').textContent = 'In the configuration: ' + (conf.tags.join(' · ') || 'none') + '.';
}

const lines = (id) => $(id).value.split('\n').map((s) => s.trim()).filter(Boolean);

async function load() {
  view = await api('GET', '/api/v1/settings/dispositions');
  render();
}

async function save(method, body) {
  $('lists-error').textContent = '';
  try {
    view = await api(method, '/api/v1/settings/dispositions', body);
    render();
    shell.toast(method === 'DELETE' ? 'The configured lists are back in force.' : 'Saved: the close dialog offers these lists from now on.');
  } catch (err) {
    $('lists-error').textContent = err.message;
  }
}

$('lists-form').addEventListener('submit', (e) => {
  e.preventDefault();
  save('PUT', { dispositions: lines('dispositions'), tags: lines('tags') });
});
$('lists-reset').addEventListener('click', () => {
  if (confirm('Forget the edited lists and offer the configured ones again?')) save('DELETE');
});

await shell.start();
shell.listen();
await load();
document.body.dataset.ready = 'true';
