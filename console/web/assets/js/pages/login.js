// The sign-in page: POST /api/v1/login, then on to where the user was going.

import { api } from '../api.js';
import { $ } from '../dom.js';

const form = $('login-form');
const error = $('login-error');
const submit = $('login-submit');

function nextPath() {
  const next = new URLSearchParams(location.search).get('next') || '/';
  return next.startsWith('/') && !next.startsWith('//') && !next.includes('\\') ? next : '/';
}

form.addEventListener('submit', async (e) => {
  e.preventDefault();
  error.textContent = '';
  const username = $('username').value.trim();
  const password = $('password').value;
  const totp = $('totp').value.trim();
  if (!username || !password) {
    error.textContent = 'Enter your username and password.';
    (username ? $('password') : $('username')).focus();
    return;
  }
  submit.disabled = true;
  submit.textContent = 'Signing in…';
  try {
    const body = { username, password };
    if (totp) body.totp = totp;
    await api('POST', '/api/v1/login', body);
    location.assign(nextPath());
  } catch (err) {
    if (err.status === 429) {
      const secs = Number(err.retryAfter) || 0;
      error.textContent = secs
        ? `Too many attempts. Wait ${secs} second${secs === 1 ? '' : 's'} and try again.`
        : 'Too many attempts. Wait a little and try again.';
    } else if (err.status === 401) {
      error.textContent = 'Wrong username, password or code. If your account uses a one-time code, enter the current one.';
      $('password').select();
      $('password').focus();
    } else {
      error.textContent = err.message;
    }
    submit.disabled = false;
    submit.textContent = 'Sign in';
  }
});
