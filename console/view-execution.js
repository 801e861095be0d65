// #/executions/<id>: one execution: its status, its jobs in order (status,
// result, timing), the drawing with each node coloured by its job and the
// failed node highlighted, and its context.
import {get, request} from './api.js';
import {h, errorBox, fmtTime, durationMs, fmtDuration, jsonBlock} from './dom.js';
import {badge, isFailure, statusName} from './status.js';
import {drawWorkflow} from './drawing.js';
import {loadNodes, fact} from './view-workflow.js';

export async function executionView(el, path, params, ctx) {
  const id = path[1];
  const r = await get('executions:get/' + encodeURIComponent(id), {appends: ['jobs']});
  if (!ctx.alive()) return;
  if (!r.data) throw {message: 'Execution ' + id + ' not found', errors: [{message: 'Execution ' +
    id + ' not found', code: 'NOT_FOUND', reason: 'executions:get/' + id + ' answered no data'}]};
  const ex = r.data;
  const jobs = (Array.isArray(ex.jobs) ? ex.jobs : []).slice().sort((a, b) => a.id - b.id);

  // The workflow version that ran and its nodes; the jobs are shown even
  // when the role may not read them.
  const [wr, nodesOr] = await Promise.all([
    request('GET', 'workflows:get/' + encodeURIComponent(ex.workflowId)),
    loadNodes(ex.workflowId).catch((e) => e),
  ]);
  if (!ctx.alive()) return;
  const wf = wr.ok && wr.data ? wr.data : null;
  const nodes = Array.isArray(nodesOr) ? nodesOr : [];
  const byId = new Map(nodes.map((n) => [n.id, n]));
  const failed = [...jobs].reverse().find((j) => isFailure(j.status));
  const failedNode = failed && byId.get(failed.nodeId);

  el.appendChild(h('div', {class: 'view-head'},
    h('h1', null, 'Execution #' + ex.id, ' ', badge(ex.status)),
    h('button', {type: 'button', class: 'btn small', onclick: () => ctx.rerender()}, 'Refresh'),
    h('a', {class: 'btn small', href: '#/executions'}, '← Executions')));
  el.appendChild(h('dl', {class: 'facts'},
    fact('Workflow', h('a', {href: '#/workflows/' + ex.workflowId},
      wf ? wf.title || '(untitled)' : 'workflow ' + ex.workflowId)),
    fact('Key', h('code', null, ex.key)),
    fact('Status', [badge(ex.status), ' ', h('span', {class: 'muted'}, String(ex.status))]),
    fact('Created', fmtTime(ex.createdAt)),
    ex.startedAt ? fact('Started', fmtTime(ex.startedAt)) : null,
    fact('Updated', fmtTime(ex.updatedAt)),
    fact('Duration', fmtDuration(durationMs(ex.startedAt || ex.createdAt, ex.updatedAt))),
    ex.reason ? fact('Reason', h('span', {class: 'error-message'},
      typeof ex.reason === 'string' ? ex.reason : JSON.stringify(ex.reason))) : null,
    ex.retryOfId ? fact('Retry of', h('a', {href: '#/executions/' + ex.retryOfId}, '#' + ex.retryOfId))
      : null));
  if (failed) {
    el.appendChild(h('div', {class: 'failed-at', id: 'failed-at'},
      'Failed at node ', h('strong', null,
        failedNode ? (failedNode.title || '(untitled)') + ' (' + failedNode.type + ')'
          : failed.nodeKey || '#' + failed.nodeId),
      ': job ', badge(failed.status, true),
      failed.result !== null && failed.result !== undefined
        ? [' ', h('code', {class: 'failed-result'}, summarize(failed.result))] : null));
  }

  // Jobs in the order they ran.
  const jobsBox = h('section', {class: 'card'}, h('h2', null, 'Jobs (' + jobs.length + ')'));
  el.appendChild(jobsBox);
  if (!jobs.length) {
    jobsBox.appendChild(h('p', {class: 'empty'},
      ex.status === null ? 'Queued: no job has run yet.' : 'No jobs.'));
  } else {
    jobsBox.appendChild(h('div', {class: 'table-wrap'}, h('table', {class: 'table', id: 'jobs-table'},
      h('thead', null, h('tr', null, ['#', 'Node', 'Type', 'Status', 'Result', 'Started', 'Duration']
        .map((t) => h('th', null, t)))),
      h('tbody', null, jobs.map((j, i) => {
        const n = byId.get(j.nodeId);
        return h('tr', {id: 'job-' + j.id, class: 'job-row' + (isFailure(j.status) ? ' failed' : ''),
                        dataset: {nodeId: j.nodeId, status: statusName(j.status, true)}},
          h('td', {class: 'num'}, String(i + 1)),
          h('td', null, n ? n.title || '(untitled)' : h('code', null, j.nodeKey || '#' + j.nodeId)),
          h('td', null, n ? n.type : ''),
          h('td', null, badge(j.status, true)),
          h('td', {class: 'result'}, jsonBlock(j.result)),
          h('td', null, fmtTime(j.startedAt || j.createdAt)),
          h('td', {class: 'num'}, fmtDuration(durationMs(j.startedAt || j.createdAt, j.updatedAt))));
      })))));
  }

  const drawingBox = h('section', {class: 'card drawing-card'}, h('h2', null, 'Path through the nodes'));
  el.appendChild(drawingBox);
  if (!Array.isArray(nodesOr)) {
    drawingBox.appendChild(errorBox(nodesOr, 'The nodes could not be loaded'));
  } else {
    const focusJob = (n) => {
      const row = jobsBox.querySelector('tr[data-node-id="' + n.id + '"]');
      if (row) {
        for (const tr of jobsBox.querySelectorAll('tr.focus')) tr.classList.remove('focus');
        row.classList.add('focus');
        row.scrollIntoView({block: 'center'});
      }
    };
    drawingBox.appendChild(h('p', {class: 'muted'},
      'Each node has the colour of its job; grey nodes did not run; the node that failed is outlined in red.'));
    drawingBox.appendChild(h('div', {class: 'drawing-scroll', id: 'execution-drawing'},
      drawWorkflow(nodes, {jobs, onNodeClick: focusJob,
                           triggerLabel: wf ? wf.type + (wf.config && wf.config.collection
                             ? ' · ' + wf.config.collection : '') : 'trigger'})));
  }

  const ctxBox = h('section', {class: 'card'}, h('h2', null, 'Context'));
  ctxBox.appendChild(h('pre', {class: 'json', id: 'execution-context'},
    JSON.stringify(ex.context === undefined ? null : ex.context, null, 2)));
  if (ex.output !== null && ex.output !== undefined) {
    ctxBox.appendChild(h('h3', null, 'Output'));
    ctxBox.appendChild(jsonBlock(ex.output));
  }
  el.appendChild(ctxBox);
  if (!wr.ok) el.appendChild(errorBox({errors: wr.errors, status: wr.status,
                                       what: 'GET workflows:get/' + ex.workflowId},
                                      'The workflow could not be read'));
}

function summarize(v) {
  const t = typeof v === 'string' ? v : JSON.stringify(v);
  return t.length > 160 ? t.slice(0, 157) + '…' : t;
}
