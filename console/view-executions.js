// #/executions?workflow=<key>&status=<name>&page=<n>: executions, newest
// first, filtered by workflow and status, a page at a time.
import config from './config.js';
import {get, request} from './api.js';
import {h, hashFor, fmtTime, durationMs, fmtDuration, errorBox} from './dom.js';
import {EXECUTION_STATUSES, badge, statusValue} from './status.js';

export async function executionsView(el, path, params, ctx) {
  const workflow = params.get('workflow') || '';
  const status = params.get('status') || '';
  const page = Math.max(1, parseInt(params.get('page'), 10) || 1);
  const pageSize = Math.max(1, parseInt(params.get('pageSize'), 10) || config.pageSize || 20);

  // Workflow names for the filter and the table; without the permission to
  // list workflows the executions are still shown, by key.
  const titles = new Map();
  let wfNote = null;
  const wr = await request('GET', 'workflows:list', {query: {sort: 'id', pageSize: 1000,
    fields: 'id,key,title,current'}});
  if (!ctx.alive()) return;
  if (wr.ok && Array.isArray(wr.data)) {
    for (const w of wr.data) {
      if (!titles.has(w.key) || w.current) titles.set(w.key, w.title);
    }
  } else {
    wfNote = wr.errors[0];
  }

  const go = (p) => {
    location.hash = hashFor('executions', Object.assign(
      {workflow: wfSel.value, status: stSel.value, pageSize: params.get('pageSize')}, p));
  };
  const wfSel = h('select', {id: 'filter-workflow', onchange: () => go({page: 1})},
    h('option', {value: ''}, 'all workflows'),
    [...titles].map(([k, t]) => h('option', {value: k, selected: k === workflow},
      (t || '(untitled)') + ' · ' + k)));
  if (workflow && !titles.has(workflow)) {
    wfSel.appendChild(h('option', {value: workflow, selected: true}, workflow));
  }
  const stSel = h('select', {id: 'filter-status', onchange: () => go({page: 1})},
    h('option', {value: ''}, 'any status'),
    EXECUTION_STATUSES.map(([, name]) => h('option', {value: name, selected: name === status}, name)));
  el.appendChild(h('div', {class: 'view-head'},
    h('h1', null, 'Executions'),
    h('label', {class: 'inline'}, 'Workflow ', wfSel),
    h('label', {class: 'inline'}, 'Status ', stSel),
    h('button', {type: 'button', class: 'btn small', onclick: () => ctx.rerender()}, 'Refresh')));
  if (wfNote) {
    el.appendChild(h('p', {class: 'muted'}, 'Workflow titles not shown: ' + wfNote.message +
      (wfNote.code ? ' (' + wfNote.code + ')' : '')));
  }

  const filter = {};
  if (workflow) filter.key = workflow;
  if (status) {
    const v = statusValue(status);
    if (v === undefined) {
      el.appendChild(errorBox({message: 'Unknown status "' + status + '"'}));
      return;
    }
    filter.status = v;
  }
  const r = await get('executions:list', {
    filter: Object.keys(filter).length ? filter : undefined,
    sort: '-id', page, pageSize,
    fields: 'id,workflowId,key,status,createdAt,updatedAt',
  });
  if (!ctx.alive()) return;
  const rows = Array.isArray(r.data) ? r.data : [];
  const meta = r.meta || {};
  const total = meta.count !== undefined ? meta.count : rows.length;
  const pages = meta.totalPage || 1;
  if (!rows.length) {
    el.appendChild(h('p', {class: 'empty', id: 'executions-empty'},
      total ? 'No executions on this page.' : 'No executions match.'));
  } else {
    el.appendChild(h('div', {class: 'table-wrap'}, h('table', {class: 'table', id: 'executions-table'},
      h('thead', null, h('tr', null, ['ID', 'Status', 'Workflow', 'Key', 'Created', 'Duration']
        .map((t) => h('th', null, t)))),
      h('tbody', null, rows.map((x) => h('tr', {class: 'row-status-' + String(x.status),
                                                dataset: {executionId: x.id}},
        h('td', {class: 'num'}, h('a', {href: '#/executions/' + x.id, class: 'exec-link'}, '#' + x.id)),
        h('td', null, badge(x.status)),
        h('td', null, h('a', {href: '#/workflows/' + x.workflowId},
          titles.get(x.key) || 'workflow ' + x.workflowId)),
        h('td', null, h('code', null, x.key)),
        h('td', null, fmtTime(x.createdAt)),
        h('td', null, fmtDuration(durationMs(x.createdAt, x.updatedAt)))))))));
  }
  el.appendChild(h('nav', {class: 'pager', 'aria-label': 'pages'},
    h('button', {type: 'button', class: 'btn small', id: 'page-prev', disabled: page <= 1,
                 onclick: () => go({page: page - 1})}, '← Newer'),
    h('span', {class: 'pager-info', id: 'page-info'},
      'page ' + page + ' of ' + Math.max(1, pages) + ' · ' + total + ' execution' +
      (total === 1 ? '' : 's')),
    h('button', {type: 'button', class: 'btn small', id: 'page-next', disabled: page >= pages,
                 onclick: () => go({page: page + 1})}, 'Older →')));
}
