// The instances this token reaches, each with its runs, workflows and
// schedules.

import { h, replace } from '../dom.js';
import { get } from '../api.js';

/** Renders the instance list into `page`. */
export async function instancesView(page, _args, _params, { setCrumbs }) {
  setCrumbs([['Instances']]);
  replace(page, h('h1', {}, 'Instances'), h('p', { class: 'muted' }, 'Loading…'));
  const { instances } = await get('/v1/instances');
  const rows = instances.map(({ name }) => {
    const base = `#/i/${encodeURIComponent(name)}`;
    return h('tr', { 'data-instance': name },
      h('td', { class: 'id' }, h('a', { href: `${base}/runs` }, name)),
      h('td', {}, h('a', { href: `${base}/runs` }, 'Runs'), ' · ', h('a', { href: `${base}/workflows` }, 'Workflows'), ' · ', h('a', { href: `${base}/schedules` }, 'Schedules')));
  });
  replace(page,
    h('h1', {}, 'Instances'),
    h('div', { class: 'card' },
      rows.length
        ? h('table', { id: 'instances' }, h('thead', {}, h('tr', {}, h('th', {}, 'Instance'), h('th', {}, ''))), h('tbody', {}, rows))
        : h('p', { class: 'muted' }, 'This token reaches no instance.')));
}
