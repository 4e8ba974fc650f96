// An instance's runs, newest first: filters (state, workflow, created
// since/until, parent run, an attribute `key=value`), cursor pages, and live state changes from the instance's
// state stream (GET .../stream/runs).

import { h, replace, stateBadge, fmtTime, errorBox } from '../dom.js';
import { get, instancePath, query } from '../api.js';
import { openStream } from '../sse.js';

const STATES = ['pending', 'running', 'suspended', 'completed', 'failed', 'cancelled', 'drifted'];
const PAGE = 25;

/** A datetime-local value as RFC 3339 (UTC), or '' when empty or invalid. */
function toRfc3339(local) {
  if (!local) return '';
  const d = new Date(local);
  return Number.isNaN(d.getTime()) ? '' : d.toISOString();
}

/** An RFC 3339 time as a datetime-local value (the reader's zone). */
function toLocalInput(iso) {
  const d = new Date(iso);
  if (!iso || Number.isNaN(d.getTime())) return '';
  const pad = (n) => String(n).padStart(2, '0');
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}T${pad(d.getHours())}:${pad(d.getMinutes())}`;
}

/** The hash of this page with `params`. */
function pageHash(instance, params) {
  return `#/i/${encodeURIComponent(instance)}/runs${query(params)}`;
}

function filterForm(instance, filters, workflows) {
  const stateSel = h('select', { name: 'state', id: 'filter-state' },
    h('option', { value: '' }, 'any'), STATES.map((s) => h('option', { value: s, selected: s === filters.state }, s)));
  const wfSel = h('select', { name: 'workflow', id: 'filter-workflow' },
    h('option', { value: '' }, 'any'), workflows.map((w) => h('option', { value: w, selected: w === filters.workflow }, w)));
  const since = h('input', { type: 'datetime-local', name: 'since', id: 'filter-since', value: toLocalInput(filters.since) });
  const until = h('input', { type: 'datetime-local', name: 'until', id: 'filter-until', value: toLocalInput(filters.until) });
  const parent = h('input', { type: 'text', name: 'parent', id: 'filter-parent', value: filters.parent, placeholder: 'run id' });
  const attr = h('input', { type: 'text', name: 'attr', id: 'filter-attr', value: filters.attr, placeholder: 'key=value' });
  const apply = (ev) => {
    ev.preventDefault();
    location.hash = pageHash(instance, {
      state: stateSel.value, workflow: wfSel.value, since: toRfc3339(since.value), until: toRfc3339(until.value),
      parent: parent.value.trim(), attr: attr.value.trim(),
    });
  };
  return h('form', { class: 'inline', id: 'run-filters', onsubmit: apply },
    h('label', {}, 'State', stateSel), h('label', {}, 'Workflow', wfSel),
    h('label', {}, 'Created since', since), h('label', {}, 'Created until', until),
    h('label', {}, 'Parent', parent), h('label', {}, 'Attribute', attr),
    h('button', { type: 'submit' }, 'Filter'),
    h('a', { href: pageHash(instance, {}) }, 'Clear'));
}

function runRow(instance, run) {
  const id = run.key.run_id;
  return h('tr', { 'data-run-id': id },
    h('td', { class: 'id mono' }, h('a', { href: `#/i/${encodeURIComponent(instance)}/runs/${encodeURIComponent(id)}` }, id)),
    h('td', {}, run.workflow),
    h('td', { class: 'run-state' }, stateBadge(run.state)),
    h('td', {}, fmtTime(run.created_at)),
    h('td', { class: 'run-updated' }, fmtTime(run.updated_at)));
}

/** Renders the run list of `instance` into `page`; returns its cleanup. */
export async function runsView(page, [instance], params, { setCrumbs }) {
  const enc = encodeURIComponent(instance);
  setCrumbs([['Instances', '#/'], [instance, `#/i/${enc}/runs`], ['Runs']]);
  const filters = {
    state: params.get('state') || '', workflow: params.get('workflow') || '',
    since: params.get('since') || '', until: params.get('until') || '', cursor: params.get('cursor') || '',
    parent: params.get('parent') || '', attr: params.get('attr') || '',
  };
  const live = h('span', { class: 'live off', id: 'runs-live' }, 'connecting');
  const body = h('div', { class: 'card' }, h('p', { class: 'muted' }, 'Loading…'));
  const workflows = await get(`${instancePath(instance)}/workflows`).then((w) => w.workflows.map((x) => x.workflow), () => []);
  replace(page,
    h('h1', {}, `Runs of ${instance} `, live),
    h('p', {}, h('a', { href: `#/i/${enc}/workflows` }, 'Workflows and their versions'), ' · ', h('a', { href: `#/i/${enc}/schedules` }, 'Schedules')),
    h('div', { class: 'card' }, filterForm(instance, filters, workflows)),
    body);

  let tbody = null;
  const load = async () => {
    try {
      const listed = await get(`${instancePath(instance)}/runs${query({
        state: filters.state, workflow: filters.workflow, created_since: filters.since,
        created_until: filters.until, parent: filters.parent, attr: filters.attr, cursor: filters.cursor, limit: PAGE,
      })}`);
      tbody = h('tbody', {}, listed.runs.map((r) => runRow(instance, r)));
      const next = listed.next_cursor ? h('a', { href: pageHash(instance, { ...filters, cursor: listed.next_cursor }), id: 'next-page' }, 'Older runs →') : null;
      const first = filters.cursor ? h('a', { href: pageHash(instance, { ...filters, cursor: '' }), id: 'first-page' }, '← Newest runs') : null;
      replace(body,
        listed.runs.length ? h('table', { id: 'runs' },
          h('thead', {}, h('tr', {}, ['Run', 'Workflow', 'State', 'Created', 'Updated'].map((t) => h('th', {}, t)))), tbody)
          : h('p', { class: 'muted', id: 'no-runs' }, 'No run matches.'),
        h('div', { class: 'pager' }, first, next));
    } catch (e) {
      replace(body, errorBox(e));
    }
  };
  await load();

  // Live: update the rows shown; a new run that fits the filters reloads
  // the newest page.
  let reload = null;
  const stream = openStream(`${instancePath(instance)}/stream/runs`, {
    onStatus: (on) => {
      live.className = `live ${on ? 'on' : 'off'}`;
      live.textContent = on ? 'live' : 'reconnecting';
      if (on && tbody) load();
    },
    onError: (e) => {
      live.className = 'live off';
      live.textContent = `not live: ${e.message}`;
    },
    onEvent: ({ event, data }) => {
      if (event !== 'state') return;
      const row = tbody && [...tbody.rows].find((r) => r.dataset.runId === data.run_id);
      if (row) {
        replace(row.querySelector('.run-state'), stateBadge(data.state));
        replace(row.querySelector('.run-updated'), fmtTime(data.updated_at));
      } else if (!filters.cursor && (!filters.workflow || filters.workflow === data.workflow)
        && (!filters.state || filters.state === data.state) && !filters.until && !filters.parent && !filters.attr) {
        clearTimeout(reload);
        reload = setTimeout(load, 300);
      }
    },
  });
  return () => {
    clearTimeout(reload);
    stream.close();
  };
}
