// The conversations page: the queue, my conversations (with unread counts and
// offers), a thread with its composer, transfer and close. Every action is one call
// of the JSON API; every change arrives through the live event stream.

import { shell } from '../shell.js';
import { api } from '../api.js';
import { $, h, clear, safeURL, duration, countdown, clock, fullTime } from '../dom.js';
import { countSegments } from '../segments.js';
import { expandPlaceholders } from '../placeholders.js';

const state = {
  me: null,
  settings: { dispositions: [], tags: [], max_segments: 10, assignment: '', canned_placeholders: [] },
  team: new Map(), // user id → member
  canned: [],
  convs: new Map(), // id → conversation, as the API shows it
  removedAt: new Map(), // id → when a live event last took it out of view (Date.now())
  unread: new Map(), // id → inbound texts not yet seen
  openId: null,
  thread: null, // { conversation, messages: Map id → message, gone, divider }
  drafts: new Map(), // id → { mode, text }
  hiddenArrivals: 0, // queue arrivals while the tab was hidden
  loading: null,
};

// Words for Twilio's delivery error codes: what a responder needs to know.
const DELIVERY_ERRORS = {
  21211: 'not a valid phone number',
  21408: 'texting this country is not enabled for the hotline',
  21610: 'the texter has opted out (they replied STOP)',
  21612: 'the hotline’s number cannot text this number',
  21614: 'not a mobile number: it cannot receive texts',
  30003: 'the phone is unreachable (switched off or out of coverage)',
  30004: 'the texter has blocked messages',
  30005: 'unknown number: it may no longer exist',
  30006: 'a landline, or a carrier that cannot receive texts',
  30007: 'filtered by the carrier (seen as spam)',
  30008: 'the carrier could not deliver it (unknown error)',
  30032: 'the hotline’s toll-free number is not verified',
  30034: 'the hotline’s number is not registered for this carrier',
};

const STATUS_WORDS = {
  queued: ['○', 'Queued'],
  sending: ['○', 'Sending…'],
  sent: ['✓', 'Sent'],
  delivered: ['✓✓', 'Delivered'],
  undelivered: ['!', 'Not delivered'],
  failed: ['!', 'Failed'],
};

const PURPOSE_WORDS = {
  welcome: 'Automatic welcome',
  help: 'Automatic help text',
  opt_out: 'Automatic opt-out confirmation',
  opt_in: 'Automatic opt-in confirmation',
  closing: 'Automatic closing text',
  after_hours: 'Automatic after-hours text',
};

const STATE_WORDS = { waiting: 'Waiting', assigned: 'Not answered yet', active: 'Active', closed: 'Closed' };

// ---- What the lists hold -------------------------------------------------------

const isMine = (c) => c.assignee_id === state.me.id && c.state !== 'closed';
const offerDeadline = (c) => (c.offer_expires_at ? Date.parse(c.offer_expires_at) : 0);
const isOffer = (c) => isMine(c) && c.state === 'assigned' && offerDeadline(c) > Date.now();
const isQueued = (c) => c.state === 'waiting';
const isOthers = (c) => c.state !== 'closed' && c.state !== 'waiting' && c.assignee_id && c.assignee_id !== state.me.id;
const isCoordinator = () => state.me.role === 'coordinator';

function queueOrder(a, b) {
  const ua = a.priority === 'urgent' ? 0 : 1;
  const ub = b.priority === 'urgent' ? 0 : 1;
  if (ua !== ub) return ua - ub;
  const wa = Date.parse(a.waiting_since || a.created_at);
  const wb = Date.parse(b.waiting_since || b.created_at);
  return wa !== wb ? wa - wb : a.id.localeCompare(b.id);
}
const createdOrder = (a, b) => a.id.localeCompare(b.id);

function lists() {
  const all = [...state.convs.values()];
  return {
    offers: all.filter(isOffer).sort(createdOrder),
    mine: all.filter((c) => isMine(c) && !isOffer(c)).sort(createdOrder),
    queue: all.filter(isQueued).sort(queueOrder),
    others: isCoordinator() ? all.filter(isOthers).sort(createdOrder) : [],
  };
}

function memberName(id) {
  if (!id) return '';
  if (state.me && id === state.me.id) return 'You';
  const m = state.team.get(id);
  return m ? m.display_name || m.username : 'A former team member';
}

// personName is someone's display name, even the signed-in user's own (for
// sentences such as "Transferred to Bo by Ana").
function personName(id) {
  if (state.me && id === state.me.id) return state.me.display_name || state.me.username;
  const m = state.team.get(id);
  return m ? m.display_name || m.username : 'a former team member';
}

// systemText is what a system event says: a transfer to someone names them and who
// transferred it, from the team list (the stored text names nobody: names change).
function systemText(m) {
  if (m.target_id) {
    return `Transferred to ${personName(m.target_id)}` + (m.author_id ? ` by ${personName(m.author_id)}` : '') + '.';
  }
  return m.body;
}

// ---- Read markers and unread counts ----------------------------------------------

const markerKey = (id) => `hotline.read.${state.me.id}.${id}`;
const readMarker = (id) => localStorage.getItem(markerKey(id)) || '';

function markRead(id, messageId) {
  if (messageId && messageId > readMarker(id)) localStorage.setItem(markerKey(id), messageId);
  if (state.unread.get(id)) {
    state.unread.delete(id);
    updateTitle();
  }
}

// ulidTime is the creation time (ms) in a ULID's first ten characters.
function ulidTime(id) {
  const alphabet = '0123456789ABCDEFGHJKMNPQRSTVWXYZ';
  let t = 0;
  for (const ch of id.slice(0, 10)) t = t * 32 + alphabet.indexOf(ch);
  return t;
}

function updateTitle() {
  let n = state.hiddenArrivals;
  for (const [id, count] of state.unread) {
    const c = state.convs.get(id);
    if (c && isMine(c)) n += count;
  }
  shell.setTitleCount(n);
}

// ---- Loading ---------------------------------------------------------------------

async function loadSettings() {
  try {
    state.settings = await api('GET', '/api/v1/settings');
  } catch (err) {
    shell.toast('Could not load the console settings: ' + err.message, { error: true });
  }
  $('take-next').hidden = state.settings.assignment === 'offer';
}

async function loadTeam() {
  try {
    const { members } = await api('GET', '/api/v1/team');
    state.team = new Map(members.map((m) => [m.id, m]));
  } catch (err) {
    shell.toast('Could not load the team list: ' + err.message, { error: true });
  }
}

// reloadAll loads every list again: at the start, and whenever the event stream
// says events were lost. It never drops a draft.
async function reloadAll() {
  if (state.loading) return state.loading;
  state.loading = (async () => {
    try {
      const { conversations } = await api('GET', '/api/v1/conversations?limit=1000');
      state.convs = new Map(conversations.map((c) => [c.id, c]));
      await countUnread();
      renderLists();
      if (state.openId) await loadThread(state.openId, { keepScroll: true });
    } catch (err) {
      shell.toast('Could not load the conversations: ' + err.message, { error: true });
    } finally {
      state.loading = null;
    }
  })();
  return state.loading;
}

// countUnread counts, for my conversations with a text newer than what I last
// read, the inbound texts after my read marker.
async function countUnread() {
  const jobs = [];
  for (const c of state.convs.values()) {
    if (!isMine(c) || c.view !== 'thread' || !c.last_inbound_at || c.id === state.openId) continue;
    const marker = readMarker(c.id);
    if (marker && ulidTime(marker) >= Date.parse(c.last_inbound_at)) {
      state.unread.delete(c.id);
      continue;
    }
    jobs.push(api('GET', `/api/v1/conversations/${c.id}`).then(({ messages }) => {
      const n = messages.filter((m) => m.direction === 'inbound' && m.id > marker).length;
      if (n) state.unread.set(c.id, n);
      else state.unread.delete(c.id);
    }).catch(() => {}));
  }
  await Promise.all(jobs);
  updateTitle();
}

// ---- The lists ---------------------------------------------------------------------

function badge(text, cls = '') {
  return h('li', { class: 'badge ' + cls, text });
}

function convButton(c, kind) {
  const urgent = c.priority === 'urgent';
  const meta = h('span', { class: 'conv-meta' });
  const side = h('span', { class: 'conv-side' });
  if (kind === 'queue') {
    side.append(h('span', { class: 'visually-hidden', text: 'waiting ' }),
      h('span', { dataset: { since: c.waiting_since || c.created_at }, text: duration(Date.now() - Date.parse(c.waiting_since || c.created_at)) }));
  } else {
    const n = state.unread.get(c.id) || 0;
    if (n) side.append(h('span', { class: 'unread', text: `${n} new` }));
    else side.append(h('span', { text: STATE_WORDS[c.state] || c.state }));
  }
  if (urgent) meta.append(h('span', { class: 'badge urgent', text: 'Urgent' }));
  if (c.language) meta.append(h('span', { class: 'badge lang', text: c.language, attrs: { title: 'Language' } }));
  for (const term of c.triage_terms || []) meta.append(h('span', { class: 'badge term', text: term, attrs: { title: 'Matched triage term' } }));
  if (c.opted_out) meta.append(h('span', { class: 'badge optout', text: 'Opted out' }));
  if (kind === 'mine' && c.last_inbound_at) meta.append(h('span', { text: 'last text ' + clock(c.last_inbound_at) }));
  if (kind === 'others') meta.append(h('span', { class: 'conv-with', text: 'with ' + memberName(c.assignee_id) }));
  return h('button', {
    class: 'conv' + (urgent ? ' urgent' : ''),
    attrs: { type: 'button', 'aria-current': c.id === state.openId ? 'true' : null },
    dataset: { id: c.id },
    on: { click: () => openConversation(c.id) },
  }, h('span', { class: 'conv-handle', text: c.handle }), side, meta);
}

function offerItem(c) {
  const left = h('span', { class: 'countdown', dataset: { until: c.offer_expires_at }, text: countdown(offerDeadline(c) - Date.now()) });
  return h('li', { class: 'offer-row' },
    convButton(c, 'offer'),
    h('div', { class: 'panel-head' },
      h('span', {}, 'Accept within ', left),
      h('span', { class: 'offer-buttons' },
        h('button', { class: 'small decline', text: 'Decline', attrs: { type: 'button', 'aria-label': `Decline ${c.handle}` }, on: { click: () => decline(c.id) } }), ' ',
        h('button', { class: 'primary small', text: 'Accept', attrs: { type: 'button' }, on: { click: () => accept(c.id) } }))));
}

function renderList(listId, emptyId, countId, items, kind) {
  const ul = clear($(listId));
  for (const c of items) ul.append(kind === 'offer' ? offerItem(c) : h('li', {}, convButton(c, kind)));
  if (emptyId) $(emptyId).hidden = items.length > 0;
  if (countId) $(countId).textContent = items.length ? `(${items.length})` : '';
}

function renderLists() {
  const focused = document.activeElement && document.activeElement.closest ? document.activeElement.closest('.conv') : null;
  const focusId = focused ? focused.dataset.id : null;
  const l = lists();
  $('offers').hidden = l.offers.length === 0;
  renderList('offer-list', null, null, l.offers, 'offer');
  renderList('mine-list', 'mine-empty', 'mine-count', l.mine, 'mine');
  renderList('queue-list', 'queue-empty', 'queue-count', l.queue, 'queue');
  $('team-section').hidden = !isCoordinator();
  renderList('team-list', 'team-empty', 'team-count', l.others, 'others');
  if (focusId) {
    const again = document.querySelector(`.conv[data-id="${CSS.escape(focusId)}"]`);
    if (again) again.focus();
  }
}

// tick moves every waiting time and countdown on, once a second.
function tick() {
  const now = Date.now();
  for (const el of document.querySelectorAll('[data-since]')) el.textContent = duration(now - Date.parse(el.dataset.since));
  let lapsed = false;
  for (const el of document.querySelectorAll('[data-until]')) {
    const left = Date.parse(el.dataset.until) - now;
    el.textContent = countdown(left);
    if (left <= 0) lapsed = true;
  }
  if (lapsed) renderLists();
}

// ---- The thread --------------------------------------------------------------------

function saveDraft() {
  if (!state.openId) return;
  const text = $('body').value;
  if (text) state.drafts.set(state.openId, { mode: mode(), text });
  else state.drafts.delete(state.openId);
}

function restoreDraft(id) {
  const d = state.drafts.get(id);
  $('body').value = d ? d.text : '';
  setMode(d ? d.mode : 'reply');
}

async function openConversation(id, { focus = true } = {}) {
  if (state.openId !== id) {
    saveDraft();
    state.openId = id;
    state.thread = null;
    restoreDraft(id);
    $('composer-error').textContent = '';
  }
  $('workspace').classList.add('thread-open');
  renderLists();
  await loadThread(id);
  if (state.openId !== id) return;
  if (focus) focusThread();
}

function focusThread() {
  const accept = $('accept');
  if (!accept.hidden) accept.focus();
  else if (!$('composer').hidden) $('body').focus();
  else $('main').focus();
}

async function loadThread(id, { keepScroll = false } = {}) {
  let data;
  try {
    data = await api('GET', `/api/v1/conversations/${id}`);
  } catch (err) {
    if (state.openId !== id) return;
    if (err.status === 404) {
      state.thread = { conversation: state.convs.get(id) || { id, handle: '', state: 'closed' }, messages: new Map(), gone: true };
      renderThread();
      return;
    }
    shell.toast('Could not open the conversation: ' + err.message, { error: true });
    return;
  }
  if (state.openId !== id) return;
  const c = data.conversation;
  if (c.state !== 'closed') state.convs.set(c.id, c);
  const first = !state.thread || state.thread.conversation.id !== id;
  state.thread = {
    conversation: c,
    messages: new Map(data.messages.map((m) => [m.id, m])),
    gone: false,
    divider: first ? readMarker(id) : (state.thread.divider || ''),
  };
  renderThread({ scroll: keepScroll ? 'keep' : 'bottom' });
  if (!document.hidden) markRead(id, newestId());
  renderLists();
}

function newestId() {
  let last = '';
  for (const id of state.thread.messages.keys()) if (id > last) last = id;
  return last;
}

function canWrite(c) {
  return c.view === 'thread' && c.state !== 'closed' && (c.assignee_id === state.me.id || isCoordinator());
}

function renderThread({ scroll = 'bottom' } = {}) {
  const t = state.thread;
  $('thread-placeholder').hidden = Boolean(t);
  $('thread').hidden = !t;
  if (!t) return;
  const c = t.conversation;
  $('thread-title').textContent = c.handle || 'Conversation';

  const badges = clear($('thread-badges'));
  badges.append(badge(STATE_WORDS[c.state] || c.state, 'state-' + c.state));
  if (c.priority === 'urgent') badges.append(badge('Urgent', 'urgent'));
  if (c.language) badges.append(badge(c.language, 'lang'));
  for (const term of c.triage_terms || []) badges.append(badge(term, 'term'));
  if (c.opted_out) badges.append(badge('Opted out', 'optout'));
  if (c.assignee_id && c.assignee_id !== state.me.id) badges.append(badge('With ' + memberName(c.assignee_id)));
  if (c.state === 'waiting' && c.waiting_since) {
    badges.append(h('li', { class: 'badge' }, 'Waiting ', h('span', { dataset: { since: c.waiting_since }, text: duration(Date.now() - Date.parse(c.waiting_since)) })));
  }
  if (isOffer(c)) {
    badges.append(h('li', { class: 'badge state-assigned' }, 'Offered to you: ', h('span', { dataset: { until: c.offer_expires_at }, text: countdown(offerDeadline(c) - Date.now()) })));
  }

  const writable = !t.gone && canWrite(c);
  $('accept').hidden = t.gone || !((c.state === 'waiting') || isOffer(c));
  $('decline').hidden = t.gone || !isOffer(c);
  $('reveal').hidden = t.gone || !isCoordinator() || c.view !== 'thread';
  $('transfer').hidden = !writable;
  $('close').hidden = !writable;
  $('opted-out').hidden = !c.opted_out || c.state === 'closed';
  const closed = $('closed-banner');
  closed.hidden = c.state !== 'closed';
  if (c.state === 'closed') {
    const parts = ['This conversation is closed'];
    if (c.disposition) parts.push('outcome: ' + c.disposition);
    if (c.tags && c.tags.length) parts.push('tags: ' + c.tags.join(', '));
    closed.textContent = parts.join(' · ') + '. Nobody can text this person until they write to the hotline again.';
  }
  const away = $('away-banner');
  away.hidden = !t.gone;
  away.textContent = t.gone ? 'This conversation is no longer yours to see: someone else took it, or it was transferred.' : '';
  $('preview').hidden = t.gone || c.view === 'thread';

  const composer = $('composer');
  composer.hidden = !writable;
  const replyRadio = composer.querySelector('input[value="reply"]');
  replyRadio.disabled = Boolean(c.opted_out);
  if (c.opted_out && mode() === 'reply') setMode('note');

  const list = $('messages');
  const atBottom = list.scrollHeight - list.scrollTop - list.clientHeight < 40;
  const keep = list.scrollTop;
  clear(list);
  const sorted = [...t.messages.values()].sort((a, b) => a.id.localeCompare(b.id));
  let divided = !t.divider;
  for (const m of sorted) {
    if (!divided && m.direction === 'inbound' && m.id > t.divider) {
      list.append(h('li', { class: 'new-divider', attrs: { role: 'separator' }, text: 'New' }));
      divided = true;
    }
    list.append(messageItem(m));
  }
  if (scroll === 'bottom' || atBottom) list.scrollTop = list.scrollHeight;
  else list.scrollTop = keep;
  updateSegments();
}

function messageItem(m) {
  const c = state.thread.conversation;
  const cls = ['msg', m.direction];
  if (m.status === 'failed' || m.status === 'undelivered') cls.push('failed');
  let author;
  switch (m.direction) {
    case 'inbound': author = c.handle || 'Texter'; break;
    case 'outbound':
      if (m.purpose && m.purpose !== 'reply') { author = PURPOSE_WORDS[m.purpose] || 'Automatic text'; cls.push('automatic'); }
      else author = memberName(m.author_id) || 'Responder';
      break;
    case 'note': author = memberName(m.author_id) || 'Someone'; break;
    default: author = m.author_id && !m.target_id ? 'by ' + memberName(m.author_id) : '';
  }
  const meta = h('div', { class: 'msg-meta' });
  if (author) meta.append(h('span', { class: 'msg-author', text: author }));
  meta.append(h('time', { attrs: { datetime: m.created_at, title: fullTime(m.created_at) }, text: clock(m.created_at) }));
  if (m.direction === 'outbound') {
    const [tick, word] = STATUS_WORDS[m.status] || ['', m.status];
    const failed = m.status === 'failed' || m.status === 'undelivered';
    meta.append(h('span', { class: 'status ' + (failed ? 'failed' : m.status) },
      h('span', { class: 'tick', attrs: { 'aria-hidden': 'true' }, text: tick }), word));
    if (failed) {
      const reason = DELIVERY_ERRORS[m.error_code] || m.error_message || 'the carrier gave no reason';
      meta.append(h('span', { class: 'status-reason', text: `Reason: ${reason}` + (m.error_code ? ` (error ${m.error_code})` : '') }));
    }
  }
  const text = m.direction === 'system' ? systemText(m) : m.body;
  const li = h('li', { class: cls.join(' '), dataset: { id: m.id } }, h('p', { class: 'msg-body', text }));
  for (const md of m.media || []) {
    const url = safeURL(md.url);
    const label = `Attachment (${md.content_type || 'file'})`;
    li.append(url
      ? h('a', { class: 'media', text: label, attrs: { href: url, target: '_blank', rel: 'noopener noreferrer' } })
      : h('span', { class: 'media', text: label }));
  }
  li.append(meta);
  return li;
}

const STATUS_RANK = { queued: 1, sending: 2, sent: 3, delivered: 4, undelivered: 4, failed: 4 };

// newer reports whether message version a is at least as recent as b: answers and
// events can arrive in any order, and a status never moves backwards.
function newer(a, b) {
  if (a.updated_at !== b.updated_at) return Date.parse(a.updated_at) > Date.parse(b.updated_at);
  return (STATUS_RANK[a.status] || 0) >= (STATUS_RANK[b.status] || 0);
}

// upsertMessage adds or replaces a message of the open thread, keeping the newest
// version of each.
function upsertMessage(conversationId, m) {
  const t = state.thread;
  if (!t || t.conversation.id !== conversationId) return false;
  const had = t.messages.has(m.id);
  if (had && !newer(m, t.messages.get(m.id))) return true;
  t.messages.set(m.id, m);
  const list = $('messages');
  const existing = list.querySelector(`li[data-id="${CSS.escape(m.id)}"]`);
  if (existing) {
    const atBottom = list.scrollHeight - list.scrollTop - list.clientHeight < 80;
    existing.replaceWith(messageItem(m));
    if (atBottom) list.scrollTop = list.scrollHeight;
  } else if (had || newestId() !== m.id) {
    renderThread({ scroll: 'keep' }); // out of order: draw it again
  } else {
    const atBottom = list.scrollHeight - list.scrollTop - list.clientHeight < 80;
    list.append(messageItem(m));
    if (atBottom || m.direction !== 'inbound') list.scrollTop = list.scrollHeight;
  }
  return true;
}

// ---- The composer ------------------------------------------------------------------

function mode() {
  const checked = $('composer').querySelector('input[name="mode"]:checked');
  return checked ? checked.value : 'reply';
}

function setMode(m) {
  const composer = $('composer');
  const radio = composer.querySelector(`input[name="mode"][value="${m}"]`);
  if (radio && !radio.disabled) radio.checked = true;
  const note = mode() === 'note';
  composer.classList.toggle('note-mode', note);
  $('body-label').textContent = note ? 'Internal note (never sent to the texter)' : 'Reply to the texter';
  $('body').placeholder = note ? 'Internal note: only your team sees it. Never sent.' : 'Write to the texter…';
  $('send').textContent = note ? 'Add note' : 'Send';
  updateSegments();
}

function updateSegments() {
  const out = $('segments');
  const warn = $('segment-warning');
  const text = $('body').value;
  if (mode() === 'note') {
    out.textContent = 'Internal note · never sent';
    out.classList.remove('over');
    warn.textContent = '';
    return;
  }
  const s = countSegments(text);
  const max = state.settings.max_segments || 10;
  const limit = s.segments > 1 ? s.segments * s.perSegment : s.perSegment;
  const enc = s.encoding === 'GSM-7' ? 'GSM-7' : 'UCS-2 (emoji or special characters: shorter SMS)';
  out.textContent = text ? `${s.units} / ${limit} · ${s.segments} SMS · ${enc}` : `0 / 160 · GSM-7`;
  out.classList.toggle('over', s.segments > max);
  warn.textContent = s.segments > max
    ? `This text needs ${s.segments} SMS; the hotline sends at most ${max}. Shorten it or split it in two.`
    : '';
}

async function send() {
  const id = state.openId;
  const body = $('body');
  const text = body.value;
  if (!id || !text.trim()) return;
  const which = mode();
  const btn = $('send');
  btn.disabled = true;
  $('composer-error').textContent = '';
  try {
    const { message } = await api('POST', `/api/v1/conversations/${id}/${which === 'note' ? 'notes' : 'messages'}`, { body: text });
    if (state.openId === id) {
      body.value = '';
      upsertMessage(id, message);
      markRead(id, newestId());
    }
    state.drafts.delete(id);
    shell.announce(which === 'note' ? 'Note added.' : 'Reply queued for sending.');
  } catch (err) {
    $('composer-error').textContent = (which === 'note' ? 'The note was not saved: ' : 'Not sent: ') + err.message;
  } finally {
    btn.disabled = false;
    updateSegments();
    body.focus();
  }
}

// ---- Canned responses --------------------------------------------------------------

let cannedSelected = 0;
let cannedShown = [];

async function openCanned() {
  if ($('composer').hidden) return;
  const dialog = $('canned-dialog');
  const search = $('canned-search');
  search.value = '';
  dialog.showModal();
  // The "/" that opened the picker is not a search.
  requestAnimationFrame(() => { if (search.value === '/') search.value = ''; filterCanned(); });
  try {
    const { canned_responses: list } = await api('GET', '/api/v1/canned-responses');
    state.canned = list;
  } catch (err) {
    $('canned-empty').hidden = false;
    $('canned-empty').textContent = 'Could not load the canned responses: ' + err.message;
    return;
  }
  filterCanned();
}

function filterCanned() {
  const q = $('canned-search').value.replace(/^\//, '').trim().toLowerCase();
  const lang = state.thread ? state.thread.conversation.language : '';
  cannedShown = state.canned
    .filter((c) => !q || c.title.toLowerCase().includes(q) || c.body.toLowerCase().includes(q))
    .sort((a, b) => Number(b.language === lang) - Number(a.language === lang));
  cannedSelected = 0;
  renderCanned();
}

function renderCanned() {
  const ul = clear($('canned-list'));
  const empty = $('canned-empty');
  empty.hidden = cannedShown.length > 0;
  empty.textContent = state.canned.length ? 'No canned response matches.' : 'There are no canned responses yet. Coordinators add them.';
  cannedShown.forEach((c, i) => {
    const li = h('li', {
      attrs: { role: 'option', id: 'canned-' + i, 'aria-selected': String(i === cannedSelected) },
      on: { click: () => insertCanned(c), mousemove: () => { if (cannedSelected !== i) { cannedSelected = i; renderCanned(); } } },
    }, h('span', { class: 'canned-title', text: c.title + (c.language ? ` (${c.language})` : '') }), h('span', { class: 'canned-text', text: c.body }));
    ul.append(li);
  });
  const search = $('canned-search');
  if (cannedShown.length) {
    search.setAttribute('aria-activedescendant', 'canned-' + cannedSelected);
    const sel = document.getElementById('canned-' + cannedSelected);
    if (sel) sel.scrollIntoView({ block: 'nearest' });
  } else {
    search.removeAttribute('aria-activedescendant');
  }
}

function insertCanned(c) {
  const conv = state.thread ? state.thread.conversation : {};
  const text = expandPlaceholders(c.body, {
    responder: state.me.display_name || state.me.username,
    handle: conv.handle || '',
  });
  $('canned-dialog').close();
  const body = $('body');
  const start = body.selectionStart ?? body.value.length;
  const end = body.selectionEnd ?? body.value.length;
  body.value = body.value.slice(0, start) + text + body.value.slice(end);
  body.focus();
  body.setSelectionRange(start + text.length, start + text.length);
  updateSegments();
}

// ---- Actions -----------------------------------------------------------------------

async function accept(id = state.openId) {
  if (!id) return;
  try {
    const { conversation } = await api('POST', `/api/v1/conversations/${id}/accept`);
    if (conversation) state.convs.set(conversation.id, conversation);
    shell.announce(`You accepted ${conversation ? conversation.handle : 'the conversation'}.`);
    await openConversation(id, { focus: false });
    setMode('reply');
    if (!$('composer').hidden) $('body').focus();
  } catch (err) {
    shell.toast(err.message, { error: true });
    if (err.status === 409 || err.status === 404) reloadAll();
  }
}

// decline turns an offer down (POST …/release on an offered conversation): it goes
// back to the queue, and routing offers it to someone else.
async function decline(id = state.openId) {
  const c = id && state.convs.get(id);
  if (!c || !isOffer(c)) return;
  const since = Date.now();
  try {
    const { conversation } = await api('POST', `/api/v1/conversations/${id}/release`);
    shell.toast(`Declined ${c.handle}: it is offered to someone else.`);
    shell.announce(`You declined ${c.handle}.`);
    afterLeaving(id, conversation, since);
  } catch (err) {
    shell.toast(err.message, { error: true });
    if (err.status === 409 || err.status === 404) reloadAll();
  }
}

// ---- Revealing a texter's number (coordinators; audited) ---------------------------

function openReveal() {
  if ($('reveal').hidden) return;
  resetReveal();
  $('reveal-dialog').showModal();
  $('reveal-cancel').focus();
}

// resetReveal forgets the number shown: it lives in the dialog only while it is open.
function resetReveal() {
  $('reveal-number').textContent = '';
  $('reveal-result').hidden = true;
  $('reveal-error').textContent = '';
  $('reveal-confirm').hidden = false;
  $('reveal-cancel').textContent = 'Cancel';
}

async function submitReveal(e) {
  e.preventDefault();
  const id = state.openId;
  if (!id) return;
  $('reveal-error').textContent = '';
  try {
    const { address } = await api('POST', `/api/v1/conversations/${id}/reveal`);
    if (!$('reveal-dialog').open || state.openId !== id) return;
    $('reveal-number').textContent = address;
    $('reveal-result').hidden = false;
    $('reveal-confirm').hidden = true;
    $('reveal-cancel').textContent = 'Done';
    $('reveal-cancel').focus();
  } catch (err) {
    $('reveal-error').textContent = err.message;
  }
}

async function takeNext() {
  const btn = $('take-next');
  const error = $('take-next-error');
  error.textContent = '';
  btn.disabled = true;
  try {
    const res = await api('POST', '/api/v1/queue/next');
    const c = res && res.conversation;
    if (c) {
      state.convs.set(c.id, c);
      await openConversation(c.id, { focus: false });
      setMode('reply');
      if (!$('composer').hidden) $('body').focus();
    } else {
      error.textContent = 'Nobody is waiting for you right now.';
    }
  } catch (err) {
    error.textContent = 'Could not take the next conversation: ' + err.message;
  } finally {
    btn.disabled = false;
  }
}

async function openTransfer() {
  if ($('transfer').hidden) return;
  await loadTeam();
  const box = clear($('transfer-targets'));
  const choice = (value, label, note, checked, disabled) => h('label', { class: 'choice' + (disabled ? ' disabled' : '') },
    h('input', { attrs: { type: 'radio', name: 'transfer-to', value, checked: checked ? '' : null, disabled: disabled ? '' : null } }),
    h('span', { text: label }), note ? h('span', { class: 'choice-note', text: note }) : null);
  box.append(choice('', 'Back to the queue', 'anyone on call can take it', true));
  const members = [...state.team.values()].filter((m) => m.id !== state.me.id)
    .sort((a, b) => Number(b.availability === 'available') - Number(a.availability === 'available') || (a.display_name || a.username).localeCompare(b.display_name || b.username));
  for (const m of members) {
    // Only someone available can take it (the server refuses others).
    const note = [m.availability === 'available' ? 'available' : m.availability, (m.languages || []).join(', ')].filter(Boolean).join(' · ');
    box.append(choice(m.id, m.display_name || m.username, note, false, m.availability !== 'available'));
  }
  $('transfer-note').value = '';
  $('transfer-error').textContent = '';
  $('transfer-dialog').showModal();
}

async function submitTransfer(e) {
  e.preventDefault();
  const id = state.openId;
  const picked = document.querySelector('input[name="transfer-to"]:checked');
  const to = picked && picked.value ? picked.value : null;
  const note = $('transfer-note').value.trim();
  const since = Date.now();
  try {
    const { conversation } = await api('POST', `/api/v1/conversations/${id}/transfer`, { to, note });
    $('transfer-dialog').close();
    shell.toast(to ? `Transferred to ${memberName(to)}.` : 'Returned to the queue.');
    afterLeaving(id, conversation, since);
  } catch (err) {
    $('transfer-error').textContent = err.message;
  }
}

async function openClose() {
  if ($('close').hidden) return;
  await loadSettings(); // the lists in force now: coordinators edit them without a restart
  const select = clear($('disposition'));
  select.append(h('option', { attrs: { value: '', disabled: '', selected: '' }, text: 'Choose an outcome…' }));
  for (const d of state.settings.dispositions || []) select.append(h('option', { attrs: { value: d }, text: d }));
  const tags = clear($('tag-choices'));
  for (const t of state.settings.tags || []) {
    tags.append(h('label', { class: 'choice' }, h('input', { attrs: { type: 'checkbox', name: 'tag', value: t } }), h('span', { text: t })));
  }
  $('other-tags').value = '';
  $('close-error').textContent = '';
  $('close-dialog').showModal();
  select.focus();
}

async function submitClose(e) {
  e.preventDefault();
  const id = state.openId;
  const disposition = $('disposition').value;
  if (!disposition && (state.settings.dispositions || []).length) {
    $('close-error').textContent = 'Choose an outcome.';
    $('disposition').focus();
    return;
  }
  const tags = [...document.querySelectorAll('#tag-choices input:checked')].map((i) => i.value);
  for (const t of $('other-tags').value.split(',')) if (t.trim() && !tags.includes(t.trim())) tags.push(t.trim());
  try {
    const { conversation } = await api('POST', `/api/v1/conversations/${id}/close`, { disposition, tags });
    $('close-dialog').close();
    shell.toast('Conversation closed.');
    if (conversation && state.thread && state.thread.conversation.id === id) {
      state.thread.conversation = conversation;
      renderThread({ scroll: 'keep' });
    }
    state.convs.delete(id);
    state.unread.delete(id);
    updateTitle();
    renderLists();
  } catch (err) {
    $('close-error').textContent = err.message;
  }
}

// afterLeaving updates the page once a conversation has left the user's hands.
// The answer may come after live events that are newer (routing may already have
// offered it to someone else): a removal since the request (since, Date.now()) or a
// newer version from the stream wins over the answer.
function afterLeaving(id, conversation, since = Date.now()) {
  const known = state.convs.get(id);
  if ((state.removedAt.get(id) || 0) >= since) conversation = null;
  else if (conversation && known && Date.parse(known.updated_at) > Date.parse(conversation.updated_at)) conversation = known;
  if (conversation) state.convs.set(id, conversation);
  else state.convs.delete(id);
  state.unread.delete(id);
  updateTitle();
  if (state.openId === id) {
    if (conversation) loadThread(id, { keepScroll: true });
    else closeThreadView();
  }
  renderLists();
}

function closeThreadView() {
  saveDraft();
  state.openId = null;
  state.thread = null;
  $('workspace').classList.remove('thread-open');
  renderThread();
  renderLists();
}

// ---- Live events -------------------------------------------------------------------

function onConversation({ conversation: c }) {
  const prev = state.convs.get(c.id);
  state.removedAt.delete(c.id);
  if (c.state === 'closed' && c.id !== state.openId) state.convs.delete(c.id);
  else state.convs.set(c.id, c);
  if (!prev && c.state === 'waiting') {
    shell.announce(`New texter waiting: ${c.handle}${c.priority === 'urgent' ? ', urgent' : ''}.`);
    shell.beep();
    if (document.hidden) state.hiddenArrivals += 1;
  } else if (prev && prev.priority !== 'urgent' && c.priority === 'urgent') {
    shell.announce(`${c.handle} is now urgent.`);
  }
  if (isMine(c) && !(prev && isMine(prev))) {
    shell.announce(isOffer(c) ? `${c.handle} is offered to you: accept it within ${countdown(offerDeadline(c) - Date.now())}.` : `${c.handle} is now yours.`);
    shell.beep();
  }
  if (state.thread && state.thread.conversation.id === c.id) {
    const becameReadable = state.thread.conversation.view !== 'thread' && c.view === 'thread';
    state.thread.conversation = c;
    state.thread.gone = false;
    if (becameReadable) loadThread(c.id, { keepScroll: true });
    else renderThread({ scroll: 'keep' });
  }
  updateTitle();
  renderLists();
}

function onRemoved({ conversation_id: id }) {
  state.convs.delete(id);
  state.removedAt.set(id, Date.now());
  state.unread.delete(id);
  if (state.thread && state.thread.conversation.id === id) {
    state.thread.gone = true;
    renderThread({ scroll: 'keep' });
  }
  updateTitle();
  renderLists();
}

function onMessage({ conversation_id: id, message: m }) {
  const open = upsertMessage(id, m);
  if (m.direction !== 'inbound') return;
  const c = state.convs.get(id);
  const handle = c ? c.handle : 'a texter';
  if (open && !document.hidden) {
    markRead(id, m.id);
  } else if (!(open && state.thread.messages.has(m.id) && readMarker(id) >= m.id)) {
    state.unread.set(id, (state.unread.get(id) || 0) + 1);
  }
  shell.announce(`New text from ${handle}: ${m.body.slice(0, 200)}`);
  shell.beep();
  updateTitle();
  renderLists();
}

function onStatus({ conversation_id: id, message: m }) {
  upsertMessage(id, m);
}

// ---- Keyboard ----------------------------------------------------------------------

function moveInList(step) {
  const buttons = [...document.querySelectorAll('.sidebar .conv')];
  if (!buttons.length) return;
  let i = buttons.findIndex((b) => b.dataset.id === state.openId);
  i = i < 0 ? (step > 0 ? 0 : buttons.length - 1) : Math.min(buttons.length - 1, Math.max(0, i + step));
  openConversation(buttons[i].dataset.id, { focus: false }).then(() => {
    const again = document.querySelector(`.sidebar .conv[data-id="${CSS.escape(buttons[i].dataset.id)}"]`);
    if (again) again.focus();
  });
}

function wireComposer() {
  const body = $('body');
  body.addEventListener('input', updateSegments);
  body.addEventListener('keydown', (e) => {
    if (e.key === 'Enter' && !e.shiftKey && !e.isComposing && !e.altKey) {
      e.preventDefault();
      send();
    } else if (e.key === '/' && body.value === '' && !e.ctrlKey && !e.metaKey) {
      e.preventDefault();
      openCanned();
    }
  });
  for (const r of document.querySelectorAll('input[name="mode"]')) r.addEventListener('change', () => setMode(mode()));
  $('composer').addEventListener('submit', (e) => { e.preventDefault(); send(); });
  $('canned-button').addEventListener('click', openCanned);
  const search = $('canned-search');
  search.addEventListener('input', filterCanned);
  search.addEventListener('keydown', (e) => {
    if (e.key === 'ArrowDown' || e.key === 'ArrowUp') {
      e.preventDefault();
      if (!cannedShown.length) return;
      cannedSelected = (cannedSelected + (e.key === 'ArrowDown' ? 1 : -1) + cannedShown.length) % cannedShown.length;
      renderCanned();
    } else if (e.key === 'Enter') {
      e.preventDefault();
      if (cannedShown[cannedSelected]) insertCanned(cannedShown[cannedSelected]);
    }
  });
  $('canned-dialog').addEventListener('close', () => { if (!$('composer').hidden) body.focus(); });
}

function wireDialogs() {
  for (const d of document.querySelectorAll('dialog')) {
    for (const b of d.querySelectorAll('button.cancel')) b.addEventListener('click', () => d.close());
  }
  $('transfer-form').addEventListener('submit', submitTransfer);
  $('close-form').addEventListener('submit', submitClose);
  $('reveal-form').addEventListener('submit', submitReveal);
  $('reveal-dialog').addEventListener('close', resetReveal);
}

function wireShortcuts() {
  shell.shortcut('j', 'Next conversation', () => moveInList(1));
  shell.shortcut('k', 'Previous conversation', () => moveInList(-1));
  shell.shortcut('a', 'Accept the open conversation (or the first offer)', () => {
    if (!$('accept').hidden) accept();
    else {
      const offer = lists().offers[0];
      if (offer) accept(offer.id);
    }
  });
  shell.shortcut('d', 'Decline the open offer (or the first offer)', () => {
    const c = state.openId && state.convs.get(state.openId);
    if (c && isOffer(c)) decline(c.id);
    else if (lists().offers[0]) decline(lists().offers[0].id);
  });
  shell.shortcut('n', 'Take the next conversation from the queue', () => { if (!$('take-next').hidden) takeNext(); });
  shell.shortcut('r', 'Write a reply', () => { if (!$('composer').hidden) { setMode('reply'); $('body').focus(); } });
  shell.shortcut('i', 'Write an internal note', () => { if (!$('composer').hidden) { setMode('note'); $('body').focus(); } });
  shell.shortcut('/', 'Insert a canned response', openCanned);
  shell.shortcut('f', 'Transfer the conversation', openTransfer);
  shell.shortcut('e', 'Close the conversation', openClose);
}

// ---- Start -------------------------------------------------------------------------

async function main() {
  wireComposer();
  wireDialogs();
  wireShortcuts();
  $('accept').addEventListener('click', () => accept());
  $('decline').addEventListener('click', () => decline());
  $('reveal').addEventListener('click', openReveal);
  $('take-next').addEventListener('click', takeNext);
  $('transfer').addEventListener('click', openTransfer);
  $('close').addEventListener('click', openClose);
  $('back').addEventListener('click', closeThreadView);

  const ev = shell.events;
  ev.on('ready', ({ resumed }) => { if (!resumed) reloadAll(); });
  ev.on('reset', () => reloadAll());
  ev.on('conversation', onConversation);
  ev.on('removed', onRemoved);
  ev.on('message', onMessage);
  ev.on('status', onStatus);
  ev.on('user', ({ user_id: id }) => { if (state.team.has(id)) loadTeam(); });

  document.addEventListener('visibilitychange', () => {
    if (document.hidden) return;
    state.hiddenArrivals = 0;
    if (state.thread && !state.thread.gone) markRead(state.openId, newestId());
    updateTitle();
    renderLists();
  });

  state.me = await shell.start();
  await Promise.all([loadSettings(), loadTeam()]);
  setMode('reply');
  shell.listen(); // its first event, "ready", loads the lists
  setInterval(tick, 1000);
  document.body.dataset.ready = 'true';
}

main().catch((err) => shell.toast('The console could not start: ' + err.message, { error: true }));
