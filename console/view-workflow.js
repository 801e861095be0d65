// #/workflows/<id>: one workflow, the drawing of its nodes (click a node for
// its configuration) and its latest executions.
import {get, listAll} from './api.js';
import {h, errorBox, hashFor, json, fmtTime, durationMs, fmtDuration, replace} from './dom.js';
import {drawWorkflow} from './drawing.js';
import {badge} from './status.js';
import {enableSwitch} from './view-workflows.js';

export async function loadNodes(workflowId) {
  const nodes = await listAll('workflows/' + encodeURIComponent(workflowId) + '/nodes:list',
    {sort: 'id'});
  return nodes;
}

export async function workflowView(el, path, params, ctx) {
  const id = path[1];
  const r = await get('workflows:get/' + encodeURIComponent(id));
  if (!ctx.alive()) return;
  if (!r.data) throw {message: 'Workflow ' + id + ' not found', errors: [{message: 'Workflow ' +
    id + ' not found', code: 'NOT_FOUND', reason: 'workflows:get/' + id + ' answered no data'}]};
  const wf = r.data;
  const collection = wf.config && wf.config.collection;
  el.appendChild(h('div', {class: 'view-head'},
    h('h1', null, wf.title || '(untitled)', ' ', h('code', {class: 'title-key'}, wf.key)),
    h('a', {class: 'btn small', href: '#/workflows'}, '← Workflows')));
  el.appendChild(h('dl', {class: 'facts'},
    fact('ID', wf.id), fact('Type', wf.type), fact('Collection', collection || '—'),
    fact('Mode', wf.sync ? 'synchronous' : 'asynchronous'),
    fact('Version', wf.current ? 'current' : 'not current'),
    fact('Enabled', enableSwitch(wf)),
    wf.description ? fact('Description', wf.description) : null,
    fact('Actions', h('span', {class: 'row-actions'},
      h('a', {class: 'btn small', href: hashFor('executions', {workflow: wf.key})}, 'Executions'),
      collection ? h('a', {class: 'btn small primary', id: 'trigger-this',
                           href: hashFor('trigger', {collection, keys: wf.key})}, 'Trigger…')
        : null))));

  const drawingBox = h('section', {class: 'card drawing-card'}, h('h2', null, 'Nodes'));
  el.appendChild(drawingBox);
  const detail = h('aside', {class: 'node-detail', id: 'node-detail'},
    h('p', {class: 'muted'}, 'Click a node to see its configuration.'));
  try {
    const nodes = await loadNodes(wf.id);
    if (!ctx.alive()) return;
    const show = (n) => {
      replace(detail, 
        h('h3', null, n.title || '(untitled)'),
        h('dl', {class: 'facts small'}, fact('Type', n.type), fact('ID', n.id),
          fact('Key', h('code', null, n.key)),
          n.branchIndex !== null && n.branchIndex !== undefined ? fact('Branch', n.branchIndex) : null),
        h('h4', null, 'Configuration'), h('pre', {class: 'json'}, json(n.config || {})));
      for (const g of drawingBox.querySelectorAll('g.node')) {
        g.classList.toggle('selected', g.dataset.nodeId === String(n.id));
      }
    };
    drawingBox.appendChild(h('p', {class: 'muted'}, nodes.length + ' node' +
      (nodes.length === 1 ? '' : 's') + '. Chains run downwards; branches stand side by side.'));
    drawingBox.appendChild(h('div', {class: 'drawing-row'},
      h('div', {class: 'drawing-scroll', id: 'workflow-drawing'},
        drawWorkflow(nodes, {onNodeClick: show,
                             triggerLabel: wf.type + (collection ? ' · ' + collection : '')})),
      detail));
  } catch (e) {
    if (!ctx.alive()) return;
    drawingBox.appendChild(errorBox(e, 'The nodes could not be loaded'));
  }

  const execBox = h('section', {class: 'card'}, h('h2', null, 'Latest executions'));
  el.appendChild(execBox);
  try {
    const ex = await get('executions:list', {
      filter: {key: wf.key}, sort: '-id', pageSize: 10,
      fields: 'id,workflowId,status,createdAt,updatedAt'});
    if (!ctx.alive()) return;
    const rows = Array.isArray(ex.data) ? ex.data : [];
    if (!rows.length) execBox.appendChild(h('p', {class: 'empty'}, 'Not run yet.'));
    else {
      execBox.appendChild(h('table', {class: 'table'},
        h('thead', null, h('tr', null, ['ID', 'Status', 'Version', 'Created', 'Duration']
          .map((t) => h('th', null, t)))),
        h('tbody', null, rows.map((x) => h('tr', null,
          h('td', {class: 'num'}, h('a', {href: '#/executions/' + x.id}, '#' + x.id)),
          h('td', null, badge(x.status)),
          h('td', null, x.workflowId === wf.id ? 'this' : 'workflow ' + x.workflowId),
          h('td', null, fmtTime(x.createdAt)),
          h('td', null, fmtDuration(durationMs(x.createdAt, x.updatedAt))))))));
      const total = ex.meta && ex.meta.count;
      if (total > rows.length) {
        execBox.appendChild(h('p', null, h('a', {href: hashFor('executions', {workflow: wf.key})},
          'All ' + total + ' executions →')));
      }
    }
  } catch (e) {
    if (!ctx.alive()) return;
    execBox.appendChild(errorBox(e, 'Executions could not be listed'));
  }
}

export function fact(label, value) {
  return h('div', {class: 'fact'}, h('dt', null, label),
    h('dd', null, value === undefined || value === null ? '' : value));
}
