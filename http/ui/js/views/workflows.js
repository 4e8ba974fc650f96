// An instance's workflows: the version new runs start on, and every
// version stored, newest first (the deploy history).

import { h, replace, fmtTime } from '../dom.js';
import { get, instancePath } from '../api.js';

function workflowCard(instance, wf) {
  const history = [...wf.versions].sort((a, b) => Date.parse(b.deployed_at) - Date.parse(a.deployed_at));
  const runs = `#/i/${encodeURIComponent(instance)}/runs?workflow=${encodeURIComponent(wf.workflow)}`;
  return h('div', { class: 'card', 'data-workflow': wf.workflow },
    h('h2', {}, wf.workflow, ' ', h('a', { href: runs, class: 'muted' }, 'runs')),
    h('table', { class: 'versions' },
      h('thead', {}, h('tr', {}, h('th', {}, 'Version (SHA-256)'), h('th', {}, 'Deployed'), h('th', {}, ''))),
      h('tbody', {}, history.map((v) => h('tr', {},
        h('td', { class: 'mono id' }, v.hash),
        h('td', {}, fmtTime(v.deployed_at)),
        h('td', {}, v.hash === wf.current ? h('span', { class: 'state state-completed' }, 'current') : ''))))));
}

/** Renders the workflows of `instance` into `page`. */
export async function workflowsView(page, [instance], _params, { setCrumbs }) {
  const enc = encodeURIComponent(instance);
  setCrumbs([['Instances', '#/'], [instance, `#/i/${enc}/runs`], ['Workflows']]);
  const { workflows } = await get(`${instancePath(instance)}/workflows`);
  replace(page,
    h('h1', {}, `Workflows of ${instance}`),
    h('p', {}, h('a', { href: `#/i/${enc}/runs` }, 'Runs')),
    workflows.length ? workflows.map((wf) => workflowCard(instance, wf)) : h('p', { class: 'muted' }, 'No workflow deployed.'));
}
