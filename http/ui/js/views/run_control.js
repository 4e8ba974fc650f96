// What an operator does to a run besides signalling and cancelling it:
// pause and resume it, retry it once failed, reset it to a journal entry
// (POST .../pause, .../resume, .../retry, .../reset); and what a caller
// asks a running workflow: a query (answered by a read-only replay) and
// an update (a signal whose reply the page waits for).

import { h, replace, pretty, errorBox } from '../dom.js';
import { post, runPath } from '../api.js';

const FINAL = new Set(['completed', 'failed', 'cancelled', 'drifted']);

/** Reads `text` as JSON, or says in `note` why it is not. */
function json(text, what, note) {
  try {
    return { ok: true, value: JSON.parse(text) };
  } catch (e) {
    replace(note, h('span', { class: 'error' }, `The ${what} is not JSON: ${e.message}`));
    return { ok: false };
  }
}

/**
 * The run control card of `run`: pause or resume (unfinished runs), retry
 * (failed runs), reset to a journal entry (any run but a continued one).
 * `changed(what)` is called once the server took a request (`pause`,
 * `resume`, `retry` or `reset`).
 */
export function controlCard(instance, run, changed) {
  const path = runPath(instance, run.key.run_id);
  const note = h('p', { class: 'notice', id: 'control-result', role: 'status' });
  const act = (id, label, body, said) => h('button', {
    type: 'button', id, class: 'quiet',
    onclick: async (ev) => {
      ev.target.disabled = true;
      try {
        await post(`${path}/${id.replace('run-', '')}`, body());
        replace(note, said);
        changed(id.replace('run-', ''));
      } catch (e) {
        replace(note, errorBox(e));
      } finally {
        ev.target.disabled = false;
      }
    },
  }, label);
  const buttons = [];
  if (!FINAL.has(run.state) && run.state !== 'continued') {
    buttons.push(run.paused_at
      ? act('run-resume', 'Resume', () => ({}), 'Resumed.')
      : act('run-pause', 'Pause', () => ({}), 'Paused: no host takes a new step until it is resumed.'));
  }
  if (run.state === 'failed') buttons.push(act('run-retry', 'Retry', () => ({}), 'Retrying from its last journaled step.'));
  const seq = h('input', { id: 'reset-seq', type: 'number', min: '1', required: true, placeholder: 'seq' });
  const reason = h('input', { id: 'reset-reason', autocomplete: 'off', placeholder: 'why (optional)' });
  const reset = async (ev) => {
    ev.preventDefault();
    try {
      const body = { to_seq: Number(seq.value) };
      if (reason.value) body.reason = reason.value;
      const r = await post(`${path}/reset`, body);
      replace(note, `Reset to journal entry ${r.to_seq}: ${r.superseded} later entries kept as history.`);
      changed('reset');
    } catch (e) {
      replace(note, errorBox(e));
    }
  };
  return h('div', { class: 'card', id: 'run-control' },
    h('h2', {}, 'Run control'),
    buttons.length ? h('p', {}, buttons) : null,
    run.state === 'continued' ? null : h('form', { id: 'reset-form', onsubmit: reset },
      h('label', {}, 'Reset to journal entry ', seq), ' ', reason, ' ', h('button', { type: 'submit', id: 'reset-run' }, 'Reset')),
    note);
}

/** A form that asks the run a query and shows the answer. */
export function queryForm(instance, runId) {
  const name = h('input', { id: 'query-name', required: true, autocomplete: 'off', placeholder: 'status' });
  const args = h('textarea', { id: 'query-args', spellcheck: 'false' }, 'null');
  const note = h('div', { id: 'query-result', role: 'status' });
  const ask = async (ev) => {
    ev.preventDefault();
    const parsed = json(args.value, 'argument', note);
    if (!parsed.ok) return;
    try {
      const r = await post(`${runPath(instance, runId)}/queries`, { name: name.value, args: parsed.value });
      replace(note, h('pre', { id: 'query-answer' }, pretty(r.answer)));
    } catch (e) {
      replace(note, errorBox(e));
    }
  };
  return h('form', { id: 'query-form', onsubmit: ask },
    h('h2', {}, 'Query'),
    h('p', {}, h('label', {}, 'Name', name)),
    h('label', { class: 'wide' }, 'JSON arguments', args),
    h('p', {}, h('button', { type: 'submit', id: 'query-ask' }, 'Ask')), note);
}

/** A form that sends the run an update and shows its reply. */
export function updateForm(instance, runId) {
  const name = h('input', { id: 'update-name', required: true, autocomplete: 'off', placeholder: 'approve' });
  const payload = h('textarea', { id: 'update-payload', spellcheck: 'false' }, 'null');
  const note = h('div', { id: 'update-result', role: 'status' });
  const send = async (ev) => {
    ev.preventDefault();
    const parsed = json(payload.value, 'payload', note);
    if (!parsed.ok) return;
    replace(note, h('p', { class: 'muted' }, 'Sent; waiting for the reply…'));
    try {
      const r = await post(`${runPath(instance, runId)}/updates?wait=30s`, { name: name.value, payload: parsed.value });
      replace(note, !r.replied
        ? h('p', { class: 'muted' }, `Update ${r.update_id} delivered; no reply yet.`)
        : h('pre', { id: 'update-reply' }, pretty(r.reply)));
    } catch (e) {
      replace(note, errorBox(e));
    }
  };
  return h('form', { id: 'update-form', onsubmit: send },
    h('h2', {}, 'Update'),
    h('p', {}, h('label', {}, 'Name', name)),
    h('label', { class: 'wide' }, 'JSON payload', payload),
    h('p', {}, h('button', { type: 'submit', id: 'update-send' }, 'Send update')), note);
}
