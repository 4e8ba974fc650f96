// One run: its state, input and output or error, its journal as a
// timeline and as entries, live from the journal stream (GET
// .../journal/stream); forms to send a signal, an update and a query,
// to cancel, pause, resume, retry and reset (run_control.js).

import { h, replace, stateBadge, fmtTime, pretty, errorBox, shortHash } from '../dom.js';
import { get, post, runPath } from '../api.js';
import { openStream } from '../sse.js';
import { renderTimeline } from './timeline.js';
import { controlCard, queryForm, updateForm } from './run_control.js';

const FINAL = new Set(['completed', 'failed', 'cancelled', 'drifted']);

/** The page of run `runId` of `instance`. */
const runHref = (instance, runId) => `#/i/${encodeURIComponent(instance)}/runs/${encodeURIComponent(runId)}`;

function facts(instance, run) {
  const dl = h('dl', { class: 'facts' });
  const add = (k, v) => dl.append(h('dt', {}, k), h('dd', {}, v));
  add('State', stateBadge(run.state, { id: 'run-state', 'data-state': run.state }));
  add('Workflow', run.workflow);
  if (run.parent_run_id) add('Parent', h('a', { id: 'run-parent', href: runHref(instance, run.parent_run_id) }, run.parent_run_id));
  add('Version', h('span', { class: 'mono', title: run.module_hash }, shortHash(run.module_hash)));
  add('Created', fmtTime(run.created_at));
  add('Updated', fmtTime(run.updated_at));
  if (run.lease_owner && !FINAL.has(run.state)) add('Lease', `${run.lease_owner} until ${fmtTime(run.lease_expires_at)}`);
  if (run.wake_at && !FINAL.has(run.state)) add('Wakes', fmtTime(run.wake_at));
  if (run.paused_at && !FINAL.has(run.state)) add('Paused', `since ${fmtTime(run.paused_at)} (continuum resume)`);
  return dl;
}

function outcome(run) {
  if (run.output !== null && run.output !== undefined) return [h('h2', {}, 'Output'), h('pre', { id: 'run-output' }, pretty(run.output))];
  if (run.error !== null && run.error !== undefined) return [h('h2', {}, 'Error'), h('pre', { id: 'run-error', class: 'error' }, pretty(run.error))];
  return [h('h2', {}, 'Output'), h('p', { class: 'muted', id: 'run-pending' }, 'Not finished yet.')];
}

function signalForm(instance, runId) {
  const name = h('input', { name: 'name', id: 'signal-name', required: true, placeholder: 'fraud_review', autocomplete: 'off' });
  const payload = h('textarea', { name: 'payload', id: 'signal-payload', spellcheck: 'false' }, 'null');
  const note = h('p', { class: 'notice', id: 'signal-result', role: 'status' });
  const send = async (ev) => {
    ev.preventDefault();
    let value;
    try {
      value = JSON.parse(payload.value);
    } catch (e) {
      replace(note, h('span', { class: 'error' }, `The payload is not JSON: ${e.message}`));
      return;
    }
    try {
      await post(`${runPath(instance, runId)}/signals`, { name: name.value, payload: value });
      replace(note, `Signal ${name.value} sent.`);
    } catch (e) {
      replace(note, errorBox(e));
    }
  };
  return h('form', { id: 'signal-form', onsubmit: send },
    h('h2', {}, 'Send a signal'),
    h('p', {}, h('label', {}, 'Name', name)),
    h('label', { class: 'wide' }, 'JSON payload', payload),
    h('p', {}, h('button', { type: 'submit', id: 'signal-send' }, 'Send signal')), note);
}

function cancelForm(instance, runId) {
  const note = h('p', { class: 'notice', id: 'cancel-result', role: 'status' });
  let armed = null;
  const button = h('button', { type: 'button', class: 'danger', id: 'cancel-run' }, 'Cancel run');
  button.addEventListener('click', async () => {
    if (!armed) {
      button.textContent = 'Click again to cancel';
      armed = setTimeout(() => { armed = null; button.textContent = 'Cancel run'; }, 5000);
      return;
    }
    clearTimeout(armed);
    armed = null;
    button.disabled = true;
    try {
      const r = await post(`${runPath(instance, runId)}/cancel`, {});
      const said = {
        cancelled: 'Cancelled.',
        requested: 'Cancellation requested: the workflow is cleaning up.',
      };
      replace(note, said[r.outcome] || `Already ${r.state}.`);
    } catch (e) {
      replace(note, errorBox(e));
      button.disabled = false;
      button.textContent = 'Cancel run';
    }
  });
  return h('div', { id: 'cancel-form' }, h('h2', {}, 'Cancel'), button, note);
}

/** The child runs of a run (from its history), each linked, with its state. */
function childrenCard(instance, children) {
  if (!children.length) return null;
  return h('div', { class: 'card', id: 'run-children' }, h('h2', {}, `Children (${children.length})`),
    h('table', { class: 'runs' },
      h('thead', {}, h('tr', {}, h('th', {}, 'op'), h('th', {}, 'run'), h('th', {}, 'workflow'), h('th', {}, 'state'), h('th', {}, 'when the parent ends'))),
      h('tbody', {}, children.map((c) => h('tr', { 'data-run': c.key.run_id },
        h('td', {}, c.parent_op),
        h('td', {}, h('a', { href: runHref(instance, c.key.run_id) }, c.key.run_id)),
        h('td', {}, c.workflow),
        h('td', {}, stateBadge(c.state)),
        h('td', {}, c.parent_close))))));
}

function journalTable(entries) {
  return h('details', { id: 'journal' }, h('summary', {}, `Journal entries (${entries.length})`),
    h('table', { class: 'journal' }, h('thead', {}, h('tr', {}, h('th', {}, 'seq'), h('th', {}, 'time'), h('th', {}, 'entry'))),
      h('tbody', {}, entries.map((e) => h('tr', {}, h('td', {}, e.seq), h('td', {}, fmtTime(e.recorded_at)),
        h('td', {}, h('pre', {}, pretty(e.body))))))));
}

/** Renders run `runId` of `instance` into `page`; returns its cleanup. */
export async function runView(page, [instance, runId], _params, { setCrumbs }) {
  const enc = encodeURIComponent(instance);
  setCrumbs([['Instances', '#/'], [instance, `#/i/${enc}/runs`], ['Runs', `#/i/${enc}/runs`], [runId]]);
  let run = await get(runPath(instance, runId));
  const live = h('span', { class: 'live off', id: 'run-live' }, 'connecting');
  const summary = h('div', { class: 'card' });
  const actions = h('div', { class: 'card', id: 'run-actions' }, signalForm(instance, runId), updateForm(instance, runId), cancelForm(instance, runId));
  const asks = h('div', { class: 'card', id: 'run-asks' }, queryForm(instance, runId));
  const control = h('div', {});
  // A reset or a retry rewrites the journal's tail: the page starts over.
  const restart = () => setTimeout(() => location.reload(), 300);
  const timeline = h('div', { class: 'card' });
  const journal = h('div', {});
  const family = h('div', {});
  const entries = [];
  let ended = false;
  // The children's states come from the run's history, read again after
  // news once the journal shows a child.
  const drawChildren = async () => {
    if (!entries.some((e) => e.body && e.body.type === 'child_started')) return;
    try {
      const history = await get(`${runPath(instance, runId)}/history`);
      replace(family, childrenCard(instance, history.children || []));
    } catch (e) {
      replace(family, errorBox(e));
    }
  };

  const drawRun = () => {
    replace(summary, h('div', { class: 'grid' },
      h('div', {}, facts(instance, run)),
      h('div', {}, h('h2', {}, 'Input'), h('pre', { id: 'run-input' }, pretty(run.input))),
      h('div', {}, outcome(run))));
    actions.hidden = FINAL.has(run.state);
    const before = control.firstChild && control.firstChild.dataset.shape;
    const shape = `${run.state}/${Boolean(run.paused_at)}`;
    if (before !== shape) {
      const card = controlCard(instance, run, (what) => (what === 'reset' || what === 'retry' ? restart() : refresh()));
      card.dataset.shape = shape;
      replace(control, card);
    }
  };
  const drawTimeline = () => replace(timeline, h('h2', {}, 'Timeline'), renderTimeline(entries, FINAL.has(run.state), instance));
  const drawJournal = () => {
    drawTimeline();
    const wasOpen = journal.firstChild && journal.firstChild.open;
    replace(journal, h('div', { class: 'card' }, journalTable(entries)));
    if (wasOpen) journal.firstChild.firstChild.open = true;
  };
  replace(page, h('h1', {}, `Run ${runId} `, live), summary, actions, family, timeline, control, asks, journal);
  drawRun();
  drawJournal();

  // Redraws at most once a frame, and reads the run again after news.
  let frame = null;
  let refetch = null;
  const refresh = () => {
    clearTimeout(refetch);
    refetch = setTimeout(async () => {
      try {
        run = await get(runPath(instance, runId));
        drawRun();
        drawJournal();
        await drawChildren();
      } catch (e) {
        replace(summary, errorBox(e));
      }
    }, 100);
  };
  // Open operations grow with the clock.
  const ticker = setInterval(() => { if (!FINAL.has(run.state) && !frame) drawTimeline(); }, 1000);
  const stream = openStream(`${runPath(instance, runId)}/journal/stream`, {
    onStatus: (on) => {
      live.className = `live ${on ? 'on' : 'off'}`;
      live.textContent = on ? 'live' : ended ? 'final' : 'reconnecting';
    },
    onError: (e) => {
      live.className = 'live off';
      live.textContent = `not live: ${e.message}`;
    },
    onEvent: ({ event, data }) => {
      if (event === 'entry') {
        if (!entries.length || data.seq > entries[entries.length - 1].seq) entries.push(data);
        if (!frame) frame = requestAnimationFrame(() => { frame = null; drawJournal(); });
        refresh();
      } else if (event === 'end') {
        ended = true;
        refresh();
      } else if (event === 'error') {
        replace(live, `stream error: ${data && data.error ? data.error.message : data}`);
      }
    },
  });
  return () => {
    stream.close();
    clearInterval(ticker);
    clearTimeout(refetch);
    if (frame) cancelAnimationFrame(frame);
  };
}
