// Building the page: elements from data, with text always set as text
// (never parsed as HTML), and the formats shown to people.

/**
 * A new element: `h('a', {href: '#/', class: 'x', onclick: f}, 'text', child)`.
 * Attributes named on* become listeners; null children are skipped.
 */
export function h(tag, attrs = {}, ...children) {
  const el = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs || {})) {
    if (value === null || value === undefined || value === false) continue;
    if (key.startsWith('on') && typeof value === 'function') el.addEventListener(key.slice(2), value);
    else if (key === 'value') el.value = value;
    else el.setAttribute(key, value === true ? '' : String(value));
  }
  append(el, children);
  return el;
}

/** Appends children (strings as text nodes, arrays flattened). */
export function append(el, children) {
  for (const c of children.flat(Infinity)) {
    if (c === null || c === undefined || c === false) continue;
    el.append(c instanceof Node ? c : document.createTextNode(String(c)));
  }
  return el;
}

/** Empties an element and fills it with `children`. */
export function replace(el, ...children) {
  el.replaceChildren();
  return append(el, children);
}

/** A run state as a coloured badge. */
export function stateBadge(state, attrs = {}) {
  return h('span', { ...attrs, class: `state state-${state}` }, state);
}

/** An RFC 3339 time, in the reader's locale and zone. */
export function fmtTime(iso) {
  if (!iso) return '';
  const d = new Date(iso);
  return Number.isNaN(d.getTime()) ? String(iso) : d.toLocaleString();
}

/** A duration in milliseconds, short: 850 ms, 2.4 s, 3 min 5 s, 2 h 10 min. */
export function fmtDuration(ms) {
  if (!Number.isFinite(ms) || ms < 0) return '';
  if (ms < 1000) return `${Math.round(ms)} ms`;
  if (ms < 60_000) return `${(ms / 1000).toFixed(ms < 10_000 ? 1 : 0)} s`;
  if (ms < 3_600_000) return `${Math.floor(ms / 60_000)} min ${Math.round((ms % 60_000) / 1000)} s`;
  return `${Math.floor(ms / 3_600_000)} h ${Math.round((ms % 3_600_000) / 60_000)} min`;
}

/** JSON, indented, for a <pre>. */
export function pretty(value) {
  return value === undefined ? '' : JSON.stringify(value, null, 2);
}

/** The first characters of a content hash. */
export function shortHash(hash) {
  return hash ? `${String(hash).slice(0, 12)}…` : '';
}

/** An error message block. */
export function errorBox(err) {
  return h('p', { class: 'error', role: 'alert' }, err && err.message ? err.message : String(err));
}
