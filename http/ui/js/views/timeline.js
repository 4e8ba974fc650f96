// A run's journal as a timeline: one row per operation (an activity from
// its scheduling to its outcome, with its attempts; a timer from its start
// to its firing; a signal receipt from the wait to the delivery; a child
// run from its start to its end), the versions the run took (its module at
// start, patches), its end, and entries of other types as points. Open
// operations of a live run run to "now"; those of an ended run stop at its
// end, marked as left open (a 24 h timer an order no longer waited for).

import { h, fmtDuration, shortHash, pretty } from '../dom.js';

/** Entries that only record a value the workflow drew (not drawn as rows). */
const DRAWS = new Set(['clock_read', 'random_drawn', 'uuid_drawn']);

/** The rows of a timeline from journal entries in seq order. */
export function timelineRows(entries) {
  const rows = [];
  // Operation numbers are unique within a run, whatever their kind.
  const ops = new Map();
  const at = (e) => Date.parse(e.recorded_at);
  const op = (kind, e, fields) => {
    const row = { kind, start: at(e), end: null, seq: e.seq, ...fields };
    ops.set(e.body.op, row);
    rows.push(row);
    return row;
  };
  const close = (e, fields) => {
    const row = ops.get(e.body.op);
    if (row && row.end === null) Object.assign(row, { end: at(e) }, fields);
    else rows.push({ kind: 'other', start: at(e), end: at(e), seq: e.seq, name: e.body.type, detail: pretty(e.body) });
  };
  for (const e of entries) {
    const b = e.body || {};
    switch (b.type) {
      case 'run_started':
        rows.push({ kind: 'version', start: at(e), end: at(e), seq: e.seq, name: 'started on version', meta: shortHash(b.module_hash), title: b.module_hash });
        break;
      case 'patch_marker':
        rows.push({ kind: 'version', start: at(e), end: at(e), seq: e.seq, name: `patched(${b.name})`, meta: 'new path' });
        break;
      case 'activity_scheduled':
        op('activity', e, { name: b.name, meta: b.eager ? 'eager' : '' });
        break;
      case 'activity_completed':
        close(e, { status: 'completed', attempts: b.attempts });
        break;
      case 'activity_failed':
        close(e, { status: 'failed', attempts: b.failure && b.failure.attempts, detail: b.failure && `${b.failure.kind}: ${b.failure.message}` });
        break;
      case 'timer_started':
        op('timer', e, { name: `timer ${fmtDuration(b.duration_ms)}`, fireAt: b.fire_at_ms });
        break;
      case 'timer_fired':
        close(e, { status: 'fired' });
        break;
      case 'signal_requested':
        op('signal', e, { name: b.name, meta: 'waiting' });
        break;
      case 'signal_received':
        close(e, { status: 'received', meta: `received ${JSON.stringify(b.payload)}` });
        break;
      case 'child_started':
        op('child', e, { name: b.workflow, meta: b.run_id, runId: b.run_id });
        break;
      case 'child_completed':
        close(e, { status: 'completed' });
        break;
      case 'child_failed':
        close(e, { status: 'failed', detail: b.failure && `${b.failure.kind}: ${b.failure.message}` });
        break;
      case 'cancel_delivered':
        rows.push({ kind: 'run', status: 'failed', start: at(e), end: at(e), seq: e.seq, name: 'cancellation delivered', detail: b.reason || '' });
        break;
      case 'operation_cancelled':
        close(e, { status: 'cancelled' });
        break;
      case 'run_completed':
        rows.push({ kind: 'run', status: 'completed', start: at(e), end: at(e), seq: e.seq, name: 'run completed' });
        break;
      case 'run_failed':
        rows.push({ kind: 'run', status: 'failed', start: at(e), end: at(e), seq: e.seq, name: 'run failed', detail: pretty(b.error) });
        break;
      case 'run_cancelled':
        rows.push({ kind: 'run', status: 'failed', start: at(e), end: at(e), seq: e.seq, name: 'run cancelled', detail: b.reason || '' });
        break;
      default:
        if (!DRAWS.has(b.type)) rows.push({ kind: 'other', start: at(e), end: at(e), seq: e.seq, name: b.type, detail: pretty(b) });
    }
  }
  return rows;
}

/** Kinds drawn as bars from their start to their end. */
const SPANS = new Set(['activity', 'timer', 'signal', 'child']);

/**
 * Closes the rows still open when the run ended (`final`): they end at the
 * run's last entry, with status `left open`, instead of growing with the
 * clock.
 */
export function closeAtEnd(rows, final) {
  if (!final || !rows.length) return rows;
  const end = Math.max(...rows.map((r) => (r.end === null ? r.start : r.end)));
  for (const r of rows) if (r.end === null) Object.assign(r, { end, status: 'left open', leftOpen: true });
  return rows;
}

function label(row) {
  const parts = [h('span', { class: 'kind' }, row.kind === 'other' ? 'entry' : row.kind), h('span', { class: 'name' }, row.name)];
  const meta = [];
  if (row.meta) meta.push(row.meta);
  if (row.kind === 'activity' && row.attempts) meta.push(`${row.attempts} attempt${row.attempts === 1 ? '' : 's'}`);
  if (SPANS.has(row.kind)) {
    meta.push(row.end === null ? 'open' : row.leftOpen ? 'left open when the run ended' : fmtDuration(row.end - row.start));
  }
  if (row.status === 'failed' && (row.kind === 'activity' || row.kind === 'child')) meta.push('failed');
  if (row.status === 'cancelled') meta.push('cancelled');
  return h('div', { class: 'tl-label', title: row.title || row.name }, parts, meta.length ? h('span', { class: 'meta' }, meta.join(' · ')) : null);
}

/**
 * The timeline element of `entries` (`final`: the run ended, its open rows
 * stop at its end; else they run to now). `instance` makes child rows links.
 */
export function renderTimeline(entries, final, instance) {
  const rows = closeAtEnd(timelineRows(entries), final);
  if (!rows.length) return h('p', { class: 'muted' }, 'No journal entry yet.');
  const first = Math.min(...rows.map((r) => r.start));
  const ends = rows.map((r) => (r.end === null ? Date.now() : r.end));
  const last = Math.max(first + 1, ...ends);
  const span = last - first;
  const pct = (t) => `${(((t - first) / span) * 100).toFixed(3)}%`;
  const out = [h('div', {}), h('div', { class: 'axis' }, h('span', {}, '0'), h('span', {}, fmtDuration(span)))];
  rows.forEach((row, i) => {
    const open = row.end === null;
    const title = open ? 'not finished yet' : row.leftOpen ? 'not finished when the run ended' : fmtDuration(row.end - row.start);
    const bar = h('div', { class: `tl-bar${open ? ' open' : ''}${row.leftOpen ? ' left-open' : ''}`, title });
    bar.style.left = pct(row.start);
    if (SPANS.has(row.kind)) {
      bar.style.width = `${(((ends[i] - row.start) / span) * 100).toFixed(3)}%`;
    }
    const cls = `tl-row-${row.kind} ${row.status || (open ? 'open' : '')}`;
    const lane = h('div', { class: 'tl-lane' }, bar);
    const labelled = row.runId ? h('a', { href: `#/i/${encodeURIComponent(instance || '')}/runs/${encodeURIComponent(row.runId)}` }, label(row)) : label(row);
    out.push(h('div', { class: `tl-row ${cls}`, 'data-kind': row.kind, 'data-name': row.name, 'data-status': row.status || (open ? 'open' : 'done') }, labelled));
    out.push(h('div', { class: cls }, lane));
    if (row.detail) out.push(h('pre', { class: `tl-detail${row.status === 'failed' ? ' bad' : ''}` }, row.detail));
  });
  return h('div', { class: 'timeline', id: 'timeline' }, out);
}
