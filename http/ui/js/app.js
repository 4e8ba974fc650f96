// The UI's entry point: routes the location's hash to a view, keeps the
// token panel, and closes a view's streams when another one opens.
//   #/                                 instances
//   #/i/{instance}/runs?state=&workflow=&since=&until=&cursor=
//   #/i/{instance}/runs/{run_id}
//   #/i/{instance}/workflows
//   #/i/{instance}/schedules

import { h, replace, errorBox } from './dom.js';
import { UNAUTHORIZED } from './api.js';
import { getToken, setToken, forgetToken } from './token.js';
import { instancesView } from './views/instances.js';
import { runsView } from './views/runs.js';
import { runView } from './views/run.js';
import { workflowsView } from './views/workflows.js';
import { schedulesView } from './views/schedules.js';

const ROUTES = [
  [/^\/?$/, instancesView],
  [/^\/i\/([^/]+)\/runs$/, runsView],
  [/^\/i\/([^/]+)\/runs\/([^/]+)$/, runView],
  [/^\/i\/([^/]+)\/workflows$/, workflowsView],
  [/^\/i\/([^/]+)\/schedules$/, schedulesView],
];

const main = document.getElementById('main');
const crumbs = document.getElementById('crumbs');
let cleanup = () => {};

/** The crumbs of the header: [label, href] pairs (the last without href). */
function setCrumbs(items) {
  const parts = [];
  for (const [label, href] of items) {
    if (parts.length) parts.push(h('span', {}, '/'));
    parts.push(href ? h('a', { href }, label) : h('span', {}, label));
  }
  replace(crumbs, parts);
}

async function route() {
  cleanup();
  cleanup = () => {};
  const hash = location.hash.replace(/^#/, '') || '/';
  const [path, search = ''] = hash.split('?');
  const params = new URLSearchParams(search);
  for (const [pattern, view] of ROUTES) {
    const m = path.match(pattern);
    if (!m) continue;
    const page = h('div', {});
    replace(main, page);
    try {
      const args = m.slice(1).map(decodeURIComponent);
      cleanup = (await view(page, args, params, { setCrumbs })) || (() => {});
    } catch (e) {
      replace(page, errorBox(e));
    }
    return;
  }
  setCrumbs([]);
  replace(main, errorBox(new Error(`no page at #${hash}`)), h('a', { href: '#/' }, 'Instances'));
}

// The token panel: shown on demand and whenever the API says 401.
const panel = document.getElementById('token-panel');
const why = document.getElementById('token-why');
const input = document.getElementById('token-input');
const toggle = document.getElementById('token-toggle');
function showPanel(message) {
  panel.hidden = false;
  if (message) why.textContent = `${message}. Paste a bearer token; it is kept in this tab only (sessionStorage).`;
  input.focus();
}
function labelToggle() {
  toggle.textContent = getToken() ? 'Token ✓' : 'Token';
}
toggle.addEventListener('click', () => (panel.hidden ? showPanel() : (panel.hidden = true)));
document.getElementById('token-form').addEventListener('submit', (ev) => {
  ev.preventDefault();
  setToken(input.value);
  input.value = '';
  panel.hidden = true;
  labelToggle();
  route();
});
document.getElementById('token-forget').addEventListener('click', () => {
  forgetToken();
  labelToggle();
  route();
});
window.addEventListener(UNAUTHORIZED, (ev) => showPanel(ev.detail));

window.addEventListener('hashchange', route);
labelToggle();
route();
