// The shell every signed-in page shares: the top bar (on-call switch, connection,
// sound, shortcuts help, sign out), one live event stream, keyboard shortcuts, the
// screen-reader announcer, toasts, the tab title count and the new-text sound.
// A page module imports `shell`, registers its shortcuts and event handlers, awaits
// shell.start() (which returns the signed-in user) and then calls shell.listen().

import { api, onUnauthorized } from './api.js';
import { $, h, clear } from './dom.js';
import { LiveEvents } from './events.js';

const baseTitle = document.title;
const shortcuts = [];
let titleCount = 0;
let audio = null;

function signInAgain() {
  const next = location.pathname + location.search;
  location.assign('/login?next=' + encodeURIComponent(next));
}

/** typing reports whether keys go to a field (shortcuts are then off). */
function typing(target) {
  if (!(target instanceof Element)) return false;
  return Boolean(target.closest('input, textarea, select, [contenteditable=""], [contenteditable="true"]'));
}

export const shell = {
  api,
  events: new LiveEvents(),
  me: null,

  /** announce tells screen readers something politely. */
  announce(text) {
    const el = document.getElementById('announcer');
    if (!el) return;
    el.textContent = '';
    // A fresh text node is announced even when the words repeat.
    setTimeout(() => { el.textContent = text; }, 30);
  },

  /** toast shows a short message; errors stay until dismissed. */
  toast(text, { error = false } = {}) {
    const box = document.getElementById('toasts');
    if (!box) return;
    const t = h('div', { class: 'toast' + (error ? ' error' : ''), attrs: { role: error ? 'alert' : 'status' } },
      h('span', { text }));
    const close = h('button', { text: 'Dismiss', attrs: { type: 'button' }, on: { click: () => t.remove() } });
    t.append(close);
    box.append(t);
    if (!error) setTimeout(() => t.remove(), 6000);
  },

  /** shortcut registers a key (as KeyboardEvent.key) with a description for the help panel. */
  shortcut(key, description, fn, label) {
    shortcuts.push({ key, description, fn, label: label || key });
  },

  /** soundOn reports whether new texts make a sound. */
  soundOn() {
    return localStorage.getItem('hotline.sound') === 'on';
  },

  /** beep plays a short, soft two-tone chime when sound is on. */
  beep() {
    if (!this.soundOn()) return;
    try {
      audio = audio || new AudioContext();
      const now = audio.currentTime;
      for (const [i, freq] of [[0, 660], [1, 880]]) {
        const osc = audio.createOscillator();
        const gain = audio.createGain();
        osc.type = 'sine';
        osc.frequency.value = freq;
        const start = now + i * 0.16;
        gain.gain.setValueAtTime(0.0001, start);
        gain.gain.exponentialRampToValueAtTime(0.12, start + 0.02);
        gain.gain.exponentialRampToValueAtTime(0.0001, start + 0.15);
        osc.connect(gain).connect(audio.destination);
        osc.start(start);
        osc.stop(start + 0.16);
      }
    } catch {
      // no audio device: the title count and the announcement remain
    }
  },

  /** setTitleCount shows "(n) " before the page title; 0 removes it. */
  setTitleCount(n) {
    titleCount = n;
    document.title = n > 0 ? `(${n}) ${baseTitle}` : baseTitle;
  },

  titleCount() {
    return titleCount;
  },

  /** start loads who is signed in and wires the top bar; then call listen(). */
  async start() {
    onUnauthorized(signInAgain);
    this.events.on('signed_out', signInAgain);
    this.events.onState = (s) => showConnection(s);
    wireHelp();
    wireSound();
    $('sign-out').addEventListener('click', async () => {
      try {
        await api('POST', '/api/v1/logout');
      } catch {
        // signed out already, or the server is away: go to the sign-in page anyway
      }
      location.assign('/login');
    });
    document.addEventListener('keydown', onKey);
    const { user } = await api('GET', '/api/v1/me');
    this.me = user;
    wireAvailability(user);
    return user;
  },

  /** listen opens the live event stream, once the page has registered its handlers. */
  listen() {
    this.events.start();
  },
};

function showConnection(state) {
  const el = document.getElementById('connection');
  if (!el) return;
  const words = { live: 'Live', connecting: 'Connecting…', reconnecting: 'Reconnecting…', offline: 'Offline — retrying' };
  el.dataset.state = state;
  el.querySelector('.connection-text').textContent = words[state] || state;
  el.title = state === 'live' ? 'New texts arrive here as they come.' : 'The live connection dropped: nothing is lost, missed events are replayed when it is back.';
}

function wireAvailability(user) {
  const btn = $('availability');
  const label = $('availability-state');
  const show = (av) => {
    const on = av === 'available';
    btn.setAttribute('aria-checked', String(on));
    label.textContent = on ? 'Available' : 'Away';
  };
  show(user.availability);
  // The server may change it too (a session that ended, another tab): follow it.
  shell.events.on('user', async ({ user_id: id }) => {
    if (!shell.me || id !== shell.me.id) return;
    try {
      const { user: u } = await api('GET', '/api/v1/me');
      const was = shell.me.availability;
      shell.me = u;
      show(u.availability);
      if (was !== u.availability) shell.announce(u.availability === 'available' ? 'You are available.' : 'You are now away.');
    } catch {
      // the next change will tell
    }
  });
  btn.disabled = false;
  btn.addEventListener('click', async () => {
    const next = btn.getAttribute('aria-checked') === 'true' ? 'away' : 'available';
    btn.disabled = true;
    try {
      const { user: u } = await api('PUT', '/api/v1/me/availability', { status: next });
      shell.me = u;
      show(u.availability);
      shell.announce(u.availability === 'available' ? 'You are available: new conversations can reach you.' : 'You are away.');
    } catch (err) {
      shell.toast(err.message, { error: true });
    } finally {
      btn.disabled = false;
    }
  });
}

function wireSound() {
  const btn = $('sound');
  const show = () => {
    const on = shell.soundOn();
    btn.setAttribute('aria-pressed', String(on));
    btn.querySelector('.sound-text').textContent = on ? 'Sound on' : 'Sound off';
  };
  show();
  const toggle = () => {
    localStorage.setItem('hotline.sound', shell.soundOn() ? 'off' : 'on');
    show();
    if (shell.soundOn()) shell.beep(); // also unlocks audio: this is a user gesture
    shell.announce(shell.soundOn() ? 'Sound on for new texts.' : 'Sound off.');
  };
  btn.addEventListener('click', toggle);
  shell.shortcut('s', 'Sound for new texts on or off', toggle);
}

function wireHelp() {
  const dialog = $('help-dialog');
  const open = () => {
    const list = clear($('shortcut-list'));
    for (const s of shortcuts) {
      list.append(h('dt', {}, ...s.label.split(' ').map((k, i) => [i ? ' ' : '', h('kbd', { text: k })]).flat()),
        h('dd', { text: s.description }));
    }
    list.append(h('dt', {}, h('kbd', { text: 'Enter' })), h('dd', { text: 'In the composer: send' }));
    list.append(h('dt', {}, h('kbd', { text: 'Shift' }), ' ', h('kbd', { text: 'Enter' })), h('dd', { text: 'In the composer: new line' }));
    list.append(h('dt', {}, h('kbd', { text: 'Esc' })), h('dd', { text: 'Leave a field, close a dialog' }));
    dialog.showModal();
  };
  $('help-button').addEventListener('click', open);
  shell.shortcut('?', 'Show these shortcuts', open);
}

function onKey(e) {
  if (e.defaultPrevented || e.ctrlKey || e.metaKey || e.altKey) return;
  if (document.querySelector('dialog[open]')) return;
  if (e.key === 'Escape' && typing(e.target)) {
    e.target.blur();
    return;
  }
  if (typing(e.target)) return;
  const s = shortcuts.find((x) => x.key === e.key);
  if (s) {
    e.preventDefault();
    s.fn(e);
  }
}
