// #/workflows: every current workflow version, with its executions counted
// by status, and a switch to enable or disable it.
import {get, post, pool} from './api.js';
import {h, errorBox, hashFor, replace} from './dom.js';
import {EXECUTION_STATUSES, badge, statusName} from './status.js';

export async function workflowsView(el, path, params, ctx) {
  const all = params.get('all') === '1';
  const head = h('div', {class: 'view-head'},
    h('h1', null, 'Workflows'),
    h('label', {class: 'inline'},
      h('input', {type: 'checkbox', id: 'all-versions', checked: all,
                  onchange: (e) => { location.hash = e.target.checked ? '#/workflows?all=1' : '#/workflows'; }}),
      ' all versions'),
    h('button', {type: 'button', class: 'btn small', onclick: () => ctx.rerender()}, 'Refresh'));
  el.appendChild(head);
  const r = await get('workflows:list', Object.assign({sort: 'id', pageSize: 1000},
    all ? {} : {filter: {current: true}}));
  if (!ctx.alive()) return;
  const rows = Array.isArray(r.data) ? r.data : [];
  const count = (r.meta && r.meta.count) || rows.length;
  el.appendChild(h('p', {class: 'muted'}, count + ' workflow' + (count === 1 ? '' : 's') +
    (count > rows.length ? ' (first ' + rows.length + ' shown)' : '')));
  if (!rows.length) {
    el.appendChild(h('p', {class: 'empty'}, 'No workflows yet. They are made with ',
      h('code', null, 'workflows:create'), ' (see README).'));
    return;
  }
  const tbody = h('tbody');
  const table = h('table', {class: 'table', id: 'workflows-table'},
    h('thead', null, h('tr', null,
      ['ID', 'Title', 'Key', 'Type', 'Collection', 'Sync', 'Enabled', 'Executions by status', '']
        .map((t) => h('th', null, t)))),
    tbody);
  el.appendChild(h('div', {class: 'table-wrap'}, table));
  const cells = new Map();
  for (const wf of rows) {
    const execCell = h('td', {class: 'exec-counts'}, h('span', {class: 'muted'}, '…'));
    cells.set(wf.id, execCell);
    tbody.appendChild(h('tr', {dataset: {workflowId: wf.id}},
      h('td', {class: 'num'}, wf.id),
      h('td', null, h('a', {href: '#/workflows/' + wf.id, class: 'wf-link'}, wf.title || '(untitled)'),
        wf.current === false ? h('span', {class: 'tag'}, 'old version') : null),
      h('td', null, h('code', null, wf.key)),
      h('td', null, wf.type),
      h('td', null, (wf.config && wf.config.collection) || h('span', {class: 'muted'}, '—')),
      h('td', null, wf.sync ? 'sync' : 'async'),
      h('td', null, enableSwitch(wf)),
      execCell,
      h('td', null, h('span', {class: 'row-actions'},
        h('a', {href: hashFor('executions', {workflow: wf.key}), class: 'btn small'}, 'Executions'),
        wf.config && wf.config.collection
          ? h('a', {href: hashFor('trigger', {collection: wf.config.collection, keys: wf.key}),
                    class: 'btn small'}, 'Trigger')
          : null))));
  }
  // Counts: one small list call per status, only until the total is reached.
  await pool(rows, 3, async (wf) => {
    const cell = cells.get(wf.id);
    try {
      const counts = await countByStatus(wf.key, ctx);
      if (!ctx.alive()) return;
      replace(cell, ...renderCounts(wf, counts));
    } catch (e) {
      if (!ctx.alive()) return;
      replace(cell, h('span', {class: 'muted', title: e.reason || ''},
        e.message + (e.code ? ' (' + e.code + ')' : '')));
    }
  });
}

// Statuses in the order they are most likely found; stops once the
// counted executions add up to the total.
const COUNT_ORDER = [1, -1, -2, null, 0, -3, -4, -5];

async function countByStatus(key, ctx) {
  const total = await countOf({key});
  const counts = [];
  let left = total;
  for (const st of COUNT_ORDER) {
    if (left <= 0 || !ctx.alive()) break;
    const n = await countOf({key, status: st});
    if (n) counts.push([st, n]);
    left -= n;
  }
  counts.sort((a, b) => EXECUTION_STATUSES.findIndex(([v]) => v === a[0]) -
    EXECUTION_STATUSES.findIndex(([v]) => v === b[0]));
  return {total, counts};
}

async function countOf(filter) {
  const r = await get('executions:list', {filter, fields: 'id', pageSize: 1});
  return (r.meta && r.meta.count) || 0;
}

function renderCounts(wf, {total, counts}) {
  if (!total) return [h('span', {class: 'muted'}, 'none')];
  return [
    h('a', {href: hashFor('executions', {workflow: wf.key}), class: 'count-total',
            title: 'all executions of ' + wf.key}, total + ' total'),
    ' ',
    ...counts.map(([st, n]) => h('a', {
      href: hashFor('executions', {workflow: wf.key, status: statusName(st)}),
      class: 'count', title: n + ' ' + statusName(st),
    }, badge(st), ' ', String(n))),
  ];
}

// Enabled / disabled, switched with workflows:update.
export function enableSwitch(wf, onChange) {
  const msg = h('span', {class: 'inline-error'});
  const btn = h('button', {type: 'button', class: 'switch', role: 'switch',
                           'aria-checked': String(!!wf.enabled),
                           dataset: {workflowId: wf.id}});
  const paint = () => {
    btn.setAttribute('aria-checked', String(!!wf.enabled));
    btn.className = 'switch ' + (wf.enabled ? 'on' : 'off');
    btn.textContent = wf.enabled ? 'enabled' : 'disabled';
    btn.title = (wf.enabled ? 'Disable' : 'Enable') + ' this workflow';
  };
  paint();
  btn.addEventListener('click', async () => {
    btn.disabled = true;
    replace(msg);
    try {
      const want = !wf.enabled;
      await post('workflows:update', {enabled: want}, {filterByTk: wf.id});
      wf.enabled = want;
      paint();
      if (onChange) onChange(wf);
    } catch (e) {
      replace(msg, errorBox(e));
    } finally {
      btn.disabled = false;
    }
  });
  return h('span', {class: 'switch-wrap'}, btn, msg);
}
