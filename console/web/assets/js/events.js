// The live event stream, GET /api/v1/events. The browser reconnects a dropped
// stream by itself and sends Last-Event-ID, so the server replays what was missed;
// when it cannot (the id is too old, or the server restarted) it sends "reset" and
// the page reloads its lists. When the browser gives up (the server refused the
// stream), this module reconnects with the last id in the query string.

import { api } from './api.js';

const NAMES = ['ready', 'reset', 'conversation', 'removed', 'message', 'status', 'user', 'schedule', 'ping', 'signed_out'];

export class LiveEvents {
  constructor(url = '/api/v1/events') {
    this.url = url;
    this.handlers = new Map();
    this.lastId = '';
    this.source = null;
    this.retry = 1000;
    this.stopped = false;
    this.state = 'connecting';
    this.onState = () => {};
  }

  /** on registers fn(data, event) for events named name. */
  on(name, fn) {
    if (!this.handlers.has(name)) this.handlers.set(name, []);
    this.handlers.get(name).push(fn);
    return this;
  }

  emit(name, data, ev) {
    for (const fn of this.handlers.get(name) || []) {
      try {
        fn(data, ev);
      } catch (err) {
        console.error('event handler for', name, err);
      }
    }
  }

  setState(s) {
    if (this.state !== s) {
      console.info('live events:', this.state, '→', s);
      this.state = s;
      this.onState(s);
    }
  }

  start() {
    this.stopped = false;
    const url = this.lastId ? `${this.url}?last_event_id=${encodeURIComponent(this.lastId)}` : this.url;
    const es = new EventSource(url, { withCredentials: true });
    this.source = es;
    es.onopen = () => {
      this.retry = 1000;
      this.setState('live');
    };
    es.onerror = () => {
      if (es.readyState === EventSource.CLOSED) {
        this.setState('offline');
        this.reconnectLater();
      } else {
        this.setState('reconnecting');
      }
    };
    for (const name of NAMES) {
      es.addEventListener(name, (ev) => {
        if (ev.lastEventId) this.lastId = ev.lastEventId;
        let data = {};
        try {
          data = JSON.parse(ev.data || '{}');
        } catch {
          data = {};
        }
        this.setState('live');
        this.emit(name, data, ev);
        if (name === 'signed_out') this.stop();
      });
    }
  }

  /** reconnectLater starts a new stream after a growing delay, once the session is known to be alive. */
  reconnectLater() {
    if (this.stopped) return;
    if (this.source) this.source.close();
    const wait = this.retry;
    this.retry = Math.min(this.retry * 2, 30000);
    setTimeout(async () => {
      if (this.stopped) return;
      try {
        await api('GET', '/api/v1/me'); // a 401 signs the page out
      } catch (err) {
        if (err.status === 401) return;
      }
      this.start();
    }, wait);
  }

  stop() {
    this.stopped = true;
    if (this.source) this.source.close();
  }
}
