// flowcgi console: the shell (header, role choice, sign out) and the
// hash router. Views: #/signin, #/workflows, #/workflows/<id>,
// #/executions?workflow=&status=&page=, #/executions/<id>, #/trigger.
import {session, call, setSessionGoneHandler, apiBase} from './api.js';
import {h, clear, errorBox, parseHash} from './dom.js';
import {signinView} from './view-signin.js';
import {workflowsView} from './view-workflows.js';
import {workflowView} from './view-workflow.js';
import {executionsView} from './view-executions.js';
import {executionView} from './view-execution.js';
import {triggerView} from './view-trigger.js';

const top = document.getElementById('top');
const main = document.getElementById('main');
let renderSeq = 0;

const NAV = [
  ['workflows', 'Workflows'],
  ['executions', 'Executions'],
  ['trigger', 'Trigger'],
];

function route(path) {
  const [a, b] = path;
  if (a === 'signin') return signinView;
  if (a === 'workflows' && b) return workflowView;
  if (a === 'workflows') return workflowsView;
  if (a === 'executions' && b) return executionView;
  if (a === 'executions') return executionsView;
  if (a === 'trigger') return triggerView;
  return null;
}

function roleLabel(r) {
  const t = r.title && !/^\{\{/.test(r.title) ? r.title : '';
  return t && t !== r.name ? t + ' (' + r.name + ')' : r.name;
}

function renderTop(current) {
  clear(top);
  const s = session.get();
  top.appendChild(h('a', {class: 'brand', href: '#/workflows'}, 'flowcgi'));
  if (!s) {
    top.appendChild(h('span', {class: 'top-note'}, 'console'));
    return;
  }
  top.appendChild(h('nav', {class: 'nav'}, NAV.map(([p, label]) =>
    h('a', {href: '#/' + p, class: current === p ? 'active' : null, id: 'nav-' + p}, label))));
  const roles = Array.isArray(s.roles) ? s.roles : [];
  const select = h('select', {id: 'role-select', 'aria-label': 'role',
                              title: 'Role sent as X-Role with every call'},
    roles.map((r) => h('option', {value: r.name, selected: r.name === s.role}, roleLabel(r))));
  if (!roles.some((r) => r.name === s.role) && s.role) {
    select.appendChild(h('option', {value: s.role, selected: true}, s.role));
  }
  select.addEventListener('change', () => {
    session.update({role: select.value});
    render();
  });
  const u = s.user || {};
  top.appendChild(h('div', {class: 'who'},
    h('span', {class: 'user', id: 'user-name'}, u.nickname || u.username || u.email || 'user'),
    h('label', {class: 'role'}, 'role ', select),
    h('button', {type: 'button', class: 'btn small', id: 'sign-out', onclick: signOut},
      'Sign out')));
}

async function signOut() {
  try {
    await call('POST', 'auth:signOut', {noSessionHandler: true});
  } catch (e) {
    // The token may be gone already; the session ends here anyway.
  }
  session.clear();
  location.hash = '#/signin';
}

export function goSignIn(message) {
  const here = location.hash;
  session.clear();
  const q = new URLSearchParams();
  if (here && !here.startsWith('#/signin')) q.set('next', here);
  if (message) q.set('message', message);
  location.hash = '#/signin?' + q.toString();
}

setSessionGoneHandler((err) => goSignIn(err.message + (err.code ? ' (' + err.code + ')' : '')));

export async function render() {
  const seq = ++renderSeq;
  delete main.dataset.ready;
  const {path, params} = parseHash(location.hash);
  const s = session.get();
  if (!path.length) {
    location.replace(s ? '#/workflows' : '#/signin');
    return;
  }
  if (!s && path[0] !== 'signin') {
    goSignIn();
    return;
  }
  const view = route(path);
  renderTop(path[0]);
  clear(main);
  const container = h('div', {class: 'view view-' + path[0]});
  main.appendChild(container);
  // A view may finish after the user moved on: alive() tells it.
  const ctx = {alive: () => seq === renderSeq, rerender: render, apiBase: apiBase()};
  if (!view) {
    container.appendChild(errorBox({message: 'No such page: ' + location.hash}));
    return;
  }
  try {
    await view(container, path, params, ctx);
  } catch (e) {
    if (!ctx.alive()) return;
    console.warn('flowcgi console:', e);
    container.appendChild(errorBox(e, 'This page could not be shown'));
  }
  if (ctx.alive()) main.dataset.ready = path[0];
}

// Errors nobody caught still reach the page, not only the console.
window.addEventListener('unhandledrejection', (ev) => {
  main.appendChild(errorBox(ev.reason || {message: 'unknown error'}, 'Unexpected error'));
});

window.addEventListener('hashchange', () => render());
render();
