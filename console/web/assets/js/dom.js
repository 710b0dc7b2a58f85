// DOM helpers. Text from the server (message bodies, names, handles) only ever
// becomes text: h() sets textContent and attributes, never HTML.

/**
 * h creates an element. props: class, text, attrs (setAttribute), dataset, on
 * (event listeners), hidden. Children are nodes or strings (made text nodes);
 * null and false are skipped.
 */
export function h(tag, props = {}, ...children) {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(props || {})) {
    if (v === undefined || v === null || v === false) continue;
    switch (k) {
      case 'class': el.className = v; break;
      case 'text': el.textContent = v; break;
      case 'hidden': el.hidden = Boolean(v); break;
      case 'attrs': for (const [a, av] of Object.entries(v)) if (av !== undefined && av !== null && av !== false) el.setAttribute(a, String(av)); break;
      case 'dataset': Object.assign(el.dataset, v); break;
      case 'on': for (const [ev, fn] of Object.entries(v)) el.addEventListener(ev, fn); break;
      default: throw new Error('h: unknown property ' + k);
    }
  }
  append(el, ...children);
  return el;
}

/** append adds children (nodes or strings) to el. */
export function append(el, ...children) {
  for (const c of children.flat()) {
    if (c === null || c === undefined || c === false) continue;
    el.append(c instanceof Node ? c : document.createTextNode(String(c)));
  }
  return el;
}

/** clear removes every child of el. */
export function clear(el) {
  while (el.firstChild) el.removeChild(el.firstChild);
  return el;
}

/** $ returns the element with the id, or throws: pages are static. */
export function $(id) {
  const el = document.getElementById(id);
  if (!el) throw new Error('missing #' + id);
  return el;
}

/** safeURL returns u when it is an absolute http(s) URL, else null: nothing else becomes a link. */
export function safeURL(u) {
  try {
    const url = new URL(String(u));
    return url.protocol === 'https:' || url.protocol === 'http:' ? url.href : null;
  } catch {
    return null;
  }
}

/** duration writes a span of time for people: "45 s", "12 min", "3 h 5 min", "2 d 4 h". */
export function duration(ms) {
  const s = Math.max(0, Math.floor(ms / 1000));
  if (s < 60) return `${s} s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m} min`;
  const hrs = Math.floor(m / 60);
  if (hrs < 48) return m % 60 ? `${hrs} h ${m % 60} min` : `${hrs} h`;
  const d = Math.floor(hrs / 24);
  return hrs % 24 ? `${d} d ${hrs % 24} h` : `${d} d`;
}

/** countdown writes a time left as m:ss. */
export function countdown(ms) {
  const s = Math.max(0, Math.ceil(ms / 1000));
  return `${Math.floor(s / 60)}:${String(s % 60).padStart(2, '0')}`;
}

const timeFmt = new Intl.DateTimeFormat(undefined, { hour: '2-digit', minute: '2-digit' });
const dayFmt = new Intl.DateTimeFormat(undefined, { weekday: 'short', day: 'numeric', month: 'short', hour: '2-digit', minute: '2-digit' });
const fullFmt = new Intl.DateTimeFormat(undefined, { dateStyle: 'full', timeStyle: 'medium' });

/** clock writes a time: "14:05" today, "Tue 3 Mar, 14:05" before. */
export function clock(iso) {
  const d = new Date(iso);
  const now = new Date();
  return d.toDateString() === now.toDateString() ? timeFmt.format(d) : dayFmt.format(d);
}

/** fullTime writes a time in full, for a title or a <time> element. */
export function fullTime(iso) {
  return fullFmt.format(new Date(iso));
}
