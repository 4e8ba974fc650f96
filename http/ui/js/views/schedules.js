// An instance's schedules: each with its timing, state, next tick,
// counters and last run, to pause, resume or delete; and a form that
// creates one (the same JSON the CLI sends through --server).

import { h, replace, errorBox, fmtTime } from '../dom.js';
import { get, post, call, instancePath } from '../api.js';

function timing(s) {
  return s.cron ? `cron "${s.cron}" ${s.time_zone || ''}` : `at ${fmtTime(s.at)}`;
}

function scheduleRow(instance, s, note, reload) {
  const path = `${instancePath(instance)}/schedules/${encodeURIComponent(s.name)}`;
  const act = (label, id, run) => h('button', {
    type: 'button', class: label === 'Delete' ? 'quiet danger' : 'quiet', 'data-action': id,
    onclick: async () => {
      try {
        await run();
        replace(note, `Schedule ${s.name}: ${id === 'delete' ? 'deleted' : id + 'd'}.`);
        await reload();
      } catch (e) {
        replace(note, errorBox(e));
      }
    },
  }, label);
  const last = s.last_run_id
    ? h('a', { href: `#/i/${encodeURIComponent(instance)}/runs/${encodeURIComponent(s.last_run_id)}`, class: 'mono' }, s.last_run_id)
    : '';
  return h('tr', { 'data-schedule': s.name },
    h('td', { class: 'id' }, s.name),
    h('td', {}, h('span', { class: `state state-${s.state === 'active' ? 'running' : s.state === 'paused' ? 'suspended' : 'completed'}`, 'data-state': s.state }, s.state)),
    h('td', {}, s.workflow),
    h('td', { class: 'mono' }, timing(s)),
    h('td', {}, s.next_fire_at ? fmtTime(s.next_fire_at) : 'none'),
    h('td', {}, `${s.fired} / ${s.skipped}`),
    h('td', {}, last),
    h('td', {},
      s.paused ? act('Resume', 'resume', () => post(`${path}/resume`, {})) : act('Pause', 'pause', () => post(`${path}/pause`, {})),
      ' ', act('Delete', 'delete', () => call('DELETE', path))));
}

function createForm(instance, workflows, note, reload) {
  const field = (name, attrs = {}) => h('input', { name, id: `schedule-${name}`, autocomplete: 'off', spellcheck: 'false', ...attrs });
  const name = field('name', { required: true, placeholder: 'nightly' });
  const workflow = h('select', { name: 'workflow', id: 'schedule-workflow', required: true }, workflows.map((w) => h('option', { value: w }, w)));
  const cron = field('cron', { placeholder: '*/5 * * * *' });
  const zone = field('time_zone', { placeholder: 'UTC' });
  const at = field('at', { placeholder: '2030-01-01T09:00:00Z (instead of cron)' });
  const overlap = h('select', { name: 'overlap', id: 'schedule-overlap' }, h('option', { value: 'skip' }, 'skip'), h('option', { value: 'allow' }, 'allow'));
  const input = h('textarea', { name: 'input', id: 'schedule-input', spellcheck: 'false' }, '{}');
  const submit = async (ev) => {
    ev.preventDefault();
    const body = { name: name.value, workflow: workflow.value, overlap: overlap.value };
    try {
      body.input = JSON.parse(input.value);
    } catch (e) {
      replace(note, h('span', { class: 'error' }, `The input is not JSON: ${e.message}`));
      return;
    }
    if (cron.value) body.cron = cron.value;
    if (zone.value) body.time_zone = zone.value;
    if (at.value) body.at = at.value;
    try {
      const s = await post(`${instancePath(instance)}/schedules`, body);
      replace(note, `Schedule ${s.name} created; next tick ${fmtTime(s.next_fire_at)}.`);
      await reload();
    } catch (e) {
      replace(note, errorBox(e));
    }
  };
  return h('form', { id: 'schedule-form', onsubmit: submit },
    h('h2', {}, 'Create a schedule'),
    h('p', {}, h('label', {}, 'Name', name), ' ', h('label', {}, 'Workflow', workflow), ' ', h('label', {}, 'Overlap', overlap)),
    h('p', {}, h('label', {}, 'Cron', cron), ' ', h('label', {}, 'Time zone', zone), ' ', h('label', {}, 'or at', at)),
    h('label', { class: 'wide' }, 'JSON input', input),
    h('p', {}, h('button', { type: 'submit', id: 'schedule-create' }, 'Create schedule')));
}

/** Renders the schedules of `instance` into `page`. */
export async function schedulesView(page, [instance], _params, { setCrumbs }) {
  const enc = encodeURIComponent(instance);
  setCrumbs([['Instances', '#/'], [instance, `#/i/${enc}/runs`], ['Schedules']]);
  const note = h('p', { class: 'notice', id: 'schedule-result', role: 'status' });
  const table = h('div', { class: 'card' });
  const reload = async () => {
    const { schedules } = await get(`${instancePath(instance)}/schedules`);
    replace(table, schedules.length
      ? h('table', { id: 'schedules' },
        h('thead', {}, h('tr', {}, ['Schedule', 'State', 'Workflow', 'Timing', 'Next tick', 'Fired / skipped', 'Last run', ''].map((t) => h('th', {}, t)))),
        h('tbody', {}, schedules.map((s) => scheduleRow(instance, s, note, reload))))
      : h('p', { class: 'muted', id: 'no-schedules' }, 'No schedule.'));
  };
  const workflows = await get(`${instancePath(instance)}/workflows`).then((w) => w.workflows.map((x) => x.workflow), () => []);
  await reload();
  replace(page,
    h('h1', {}, `Schedules of ${instance}`),
    h('p', {}, h('a', { href: `#/i/${enc}/runs` }, 'Runs'), ' · ', h('a', { href: `#/i/${enc}/workflows` }, 'Workflows')),
    table, note,
    h('div', { class: 'card' }, createForm(instance, workflows, note, reload)));
  // Ticks move on while the page is open: refresh every few seconds.
  const timer = setInterval(() => reload().catch(() => {}), 5000);
  return () => clearInterval(timer);
}
