// Responders: list, add, edit (languages, capacity, phone, role), disable or enable,
// reset a password. All through /api/v1/users.

import { shell } from '../shell.js';
import { api } from '../api.js';
import { $, h, clear } from '../dom.js';

let users = [];

async function load() {
  ({ users } = await api('GET', '/api/v1/users'));
  const body = clear($('users'));
  for (const u of users) {
    body.append(h('tr', {},
      h('td', { text: u.display_name }), h('td', { text: u.username }), h('td', { text: u.role }),
      h('td', { text: u.languages.join(', ') || '—' }), h('td', { text: String(u.capacity) }), h('td', { text: u.phone || '—' }),
      h('td', { text: u.disabled ? 'disabled' : u.availability }),
      h('td', {},
        h('button', { class: 'small', text: 'Edit', attrs: { type: 'button' }, on: { click: () => edit(u) } }), ' ',
        h('button', { class: 'small', text: 'Reset password', attrs: { type: 'button' }, on: { click: () => resetPassword(u) } }), ' ',
        h('button', { class: 'small danger', text: u.disabled ? 'Enable' : 'Disable', attrs: { type: 'button' }, on: { click: () => toggle(u) } }))));
  }
}

function edit(u) {
  $('edit-heading').textContent = `Edit ${u.display_name}`;
  $('user-id').value = u.id;
  $('username').value = u.username;
  $('username').disabled = true;
  $('display_name').value = u.display_name;
  $('role').value = u.role;
  $('languages').value = u.languages.join(', ');
  $('capacity').value = u.capacity;
  $('phone').value = u.phone || '';
  $('password-field').hidden = true;
  $('user-save').textContent = 'Save';
  $('user-cancel').hidden = false;
  $('display_name').focus();
}

function reset() {
  $('user-form').reset();
  $('user-id').value = '';
  $('username').disabled = false;
  $('password-field').hidden = false;
  $('edit-heading').textContent = 'Add a responder';
  $('user-save').textContent = 'Add';
  $('user-cancel').hidden = true;
}

async function toggle(u) {
  if (!u.disabled && !confirm(`Disable ${u.display_name}? They are signed out at once.`)) return;
  try {
    await api('PATCH', '/api/v1/users/' + u.id, { disabled: !u.disabled });
    await load();
  } catch (err) {
    shell.toast(err.message, { error: true });
  }
}

async function resetPassword(u) {
  const password = prompt(`New password for ${u.display_name} (at least 12 characters). Their sessions end.`);
  if (!password) return;
  try {
    await api('POST', `/api/v1/users/${u.id}/password`, { password });
    shell.toast('Password reset; tell them in person or by phone.');
  } catch (err) {
    shell.toast(err.message, { error: true });
  }
}

$('user-cancel').addEventListener('click', reset);
$('user-form').addEventListener('submit', async (e) => {
  e.preventDefault();
  $('user-error').textContent = '';
  const fields = {
    display_name: $('display_name').value, role: $('role').value, capacity: Number($('capacity').value),
    languages: $('languages').value.split(',').map((s) => s.trim()).filter(Boolean), phone: $('phone').value.trim(),
  };
  try {
    if ($('user-id').value) {
      await api('PATCH', '/api/v1/users/' + $('user-id').value, fields);
    } else {
      await api('POST', '/api/v1/users', { ...fields, username: $('username').value, password: $('password').value });
    }
    reset();
    await load();
    shell.toast('Saved.');
  } catch (err) {
    $('user-error').textContent = err.message;
  }
});

await shell.start();
document.body.dataset.ready = 'true';
shell.listen();
await load();
