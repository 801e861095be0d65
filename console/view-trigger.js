// #/trigger?collection=&id=&keys=: the trigger action as a form:
// POST <collection>:trigger[/<id>]?triggerWorkflows=<keys> with a JSON body.
// Shows the answer, the executions the request created (X-Execution-Id when
// the server sends it, else found by listing executions) and, where the
// server has them, dry runs and traces.
import {request, serverFeatures} from './api.js';
import {h, errorBox, json, jsonBlock, hashFor, fmtDuration, replace} from './dom.js';
import {badge} from './status.js';

export async function triggerView(el, path, params, ctx) {
  el.appendChild(h('div', {class: 'view-head'}, h('h1', null, 'Trigger workflows')));
  const [cr, wr, features] = await Promise.all([
    request('GET', 'collections:list', {query: {pageSize: 1000, fields: 'name,title'}}),
    request('GET', 'workflows:list', {query: {filter: {current: true}, sort: 'id', pageSize: 1000}}),
    serverFeatures(),
  ]);
  if (!ctx.alive()) return;
  const collections = cr.ok && Array.isArray(cr.data) ? cr.data.map((c) => c.name) : [];
  const workflows = wr.ok && Array.isArray(wr.data) ? wr.data : [];

  const initial = params.get('collection') || collections[0] || '';
  const collection = collections.length
    ? h('select', {id: 'trigger-collection', name: 'collection'},
      collections.map((c) => h('option', {value: c, selected: c === initial}, c)),
      initial && !collections.includes(initial) ? h('option', {value: initial, selected: true}, initial)
        : null)
    : h('input', {id: 'trigger-collection', name: 'collection', value: initial, required: true,
                  placeholder: 'samples'});
  const recordId = h('input', {id: 'trigger-id', name: 'id', value: params.get('id') || '',
                               placeholder: 'none: the body is the record', inputmode: 'numeric'});
  const keys = h('input', {id: 'trigger-keys', name: 'keys', value: params.get('keys') || '',
                           placeholder: 'key[,key2] or key!association'});
  const picks = h('div', {class: 'picks', id: 'trigger-picks'});
  const body = h('textarea', {id: 'trigger-body', name: 'body', rows: 6, spellcheck: 'false',
                              placeholder: '{"title": "Sample 1", "indicator": 91}'},
  );
  body.value = params.get('body') || '';
  const dry = h('input', {type: 'checkbox', id: 'trigger-dry-run', disabled: !features.dryRun});
  const trace = h('input', {type: 'checkbox', id: 'trigger-trace', disabled: !features.dryRun});
  const button = h('button', {type: 'submit', class: 'btn primary', id: 'trigger-submit'}, 'Trigger');
  const out = h('section', {class: 'trigger-out', id: 'trigger-result', 'aria-live': 'polite'});

  const keyList = () => keys.value.split(',').map((k) => k.trim()).filter(Boolean);
  const paintPicks = () => {
    const c = collection.value;
    const mine = workflows.filter((w) => w.config && w.config.collection === c);
    const chosen = new Set(keyList().map((k) => k.split('!')[0]));
    replace(picks, 
      mine.length ? h('span', {class: 'muted'}, 'Workflows on ' + c + ': ') : null,
      mine.map((w) => h('label', {class: 'pick' + (w.enabled ? '' : ' disabled-wf')},
        h('input', {type: 'checkbox', value: w.key, checked: chosen.has(w.key),
                    onchange: (e) => togglePick(w.key, e.target.checked)}),
        ' ', w.title || w.key, ' ', h('code', null, w.key),
        w.enabled ? null : h('span', {class: 'tag'}, 'disabled'))),
      !wr.ok ? h('span', {class: 'muted'}, 'Workflows cannot be listed with this role: ' +
        wr.errors[0].message + (wr.errors[0].code ? ' (' + wr.errors[0].code + ')' : '') +
        '. Type the keys.') : null);
  };
  const togglePick = (key, on) => {
    const list = keyList().filter((k) => k.split('!')[0] !== key);
    if (on) list.push(key);
    keys.value = list.join(',');
  };
  collection.addEventListener('change', paintPicks);
  keys.addEventListener('input', paintPicks);
  paintPicks();

  const form = h('form', {class: 'card trigger-form', id: 'trigger-form', novalidate: true},
    h('div', {class: 'grid2'},
      h('div', null, h('label', {for: 'trigger-collection'}, 'Collection'), collection,
        !cr.ok ? h('div', {class: 'muted small'}, 'Collections cannot be listed with this role: ' +
          cr.errors[0].message + '.') : null),
      h('div', null, h('label', {for: 'trigger-id'}, 'Record id'), recordId)),
    h('label', {for: 'trigger-keys'}, 'Workflow keys (triggerWorkflows)'), keys, picks,
    h('label', {for: 'trigger-body'}, 'JSON body (form values; overlays the record)'), body,
    h('div', {class: 'options'},
      h('label', {class: 'inline' + (features.dryRun ? '' : ' muted')}, dry, ' dry run'),
      h('label', {class: 'inline' + (features.dryRun ? '' : ' muted')}, trace, ' trace'),
      features.dryRun ? null
        : h('span', {class: 'muted small'}, 'Dry runs and traces: not offered by this server.')),
    h('div', {class: 'actions'}, button),
    h('p', {class: 'muted small', id: 'trigger-preview'}));
  const preview = form.querySelector('#trigger-preview');
  const target = () => {
    const c = String(collection.value).trim();
    const id = recordId.value.trim();
    return c + ':trigger' + (id ? '/' + encodeURIComponent(id) : '');
  };
  const showPreview = () => {
    preview.textContent = 'POST ' + ctx.apiBase + '/' + target() + '?triggerWorkflows=' +
      keyList().join(',') + (dry.checked ? '&dryRun=true' : '') + (trace.checked ? '&trace=true' : '');
  };
  for (const i of [collection, recordId, keys, dry, trace]) {
    i.addEventListener('input', showPreview);
    i.addEventListener('change', showPreview);
  }
  showPreview();
  el.appendChild(form);
  el.appendChild(out);

  form.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    replace(out);
    const c = String(collection.value).trim();
    const ks = keyList();
    if (!c || !ks.length) {
      out.appendChild(errorBox({message: 'A collection and at least one workflow key are needed.'}));
      return;
    }
    let payload = body.value.trim();
    if (payload) {
      try {
        JSON.parse(payload);
      } catch (e) {
        out.appendChild(errorBox({message: 'The body is not JSON: ' + e.message}));
        return;
      }
    }
    button.disabled = true;
    try {
      await runTrigger(out, {collection: c, target: target(), keys: ks, payload,
                             dryRun: dry.checked, trace: trace.checked}, ctx);
    } finally {
      button.disabled = false;
    }
  });
}

async function lastExecutionId() {
  const r = await request('GET', 'executions:list', {query: {sort: '-id', pageSize: 1, fields: 'id'}});
  if (!r.ok) return {error: r.errors[0]};
  return {id: Array.isArray(r.data) && r.data.length ? r.data[0].id : 0};
}

async function runTrigger(out, t, ctx) {
  const before = t.dryRun ? null : await lastExecutionId();
  const query = {triggerWorkflows: t.keys.join(',')};
  if (t.dryRun) query.dryRun = 'true';
  if (t.trace) query.trace = 'true';
  const started = performance.now();
  const r = await request('POST', t.target, {query, body: t.payload});
  const ms = Math.round(performance.now() - started);
  if (!ctx.alive()) return;

  out.appendChild(h('div', {class: 'answer-head ' + (r.ok ? 'ok' : 'bad'), id: 'trigger-status'},
    'HTTP ' + r.status, ' · ', fmtDuration(ms)));
  if (!r.ok) out.appendChild(errorBox({errors: r.errors, status: r.status, what: 'POST ' + t.target}));
  const messages = r.json && Array.isArray(r.json.messages) ? r.json.messages : [];
  if (messages.length) {
    out.appendChild(h('ul', {class: 'messages', id: 'trigger-messages'},
      messages.map((m) => h('li', null, m && typeof m === 'object' ? m.message || json(m, 0) : String(m)))));
  }
  const meta = r.meta || {};
  if (t.dryRun) {
    out.appendChild(meta.dryRun === true
      ? h('div', {class: 'notice'}, 'Dry run: nothing was written, nothing was recorded.')
      : h('div', {class: 'error-box'}, 'The answer does not say meta.dryRun: true; the server may ' +
        'have run the workflows for real.'));
  }

  // The executions the request created.
  const exBox = h('div', {class: 'card', id: 'trigger-executions'}, h('h2', null, 'Executions'));
  out.appendChild(exBox);
  const header = r.headers.get('X-Execution-Id');
  let ids = [];
  let source = '';
  if (header) {
    ids = header.split(',').map((x) => parseInt(x.trim(), 10)).filter((x) => x > 0);
    source = 'from the X-Execution-Id header';
  } else if (!t.dryRun) {
    if (before && before.error) {
      exBox.appendChild(errorBox({errors: [before.error]}, 'Executions cannot be listed with this role'));
    } else if (before) {
      const keys = t.keys.map((k) => k.split('!')[0]);
      const lr = await request('GET', 'executions:list', {query: {
        filter: {id: {$gt: before.id}, key: {$in: keys}}, sort: 'id', pageSize: 100, fields: 'id'}});
      if (lr.ok && Array.isArray(lr.data)) ids = lr.data.map((x) => x.id);
      else exBox.appendChild(errorBox({errors: lr.errors, status: lr.status}));
      source = 'found by listing the executions of these workflows made since the request ' +
        '(this server sends no X-Execution-Id header)';
    }
  }
  if (ids.length) {
    const sr = await request('GET', 'executions:list', {query: {
      filter: {id: {$in: ids}}, fields: 'id,key,status,workflowId', pageSize: ids.length}});
    const byId = new Map(sr.ok && Array.isArray(sr.data) ? sr.data.map((x) => [x.id, x]) : []);
    exBox.appendChild(h('ul', {class: 'exec-ids'}, ids.map((id) => {
      const x = byId.get(id);
      return h('li', null, h('a', {href: '#/executions/' + id, class: 'exec-link',
                                   dataset: {executionId: id}}, 'Execution #' + id),
        x ? [' ', badge(x.status), ' ', h('code', null, x.key)] : null);
    })));
    exBox.appendChild(h('p', {class: 'muted small'}, source));
  } else if (!exBox.querySelector('.error-box')) {
    exBox.appendChild(h('p', {class: 'muted'}, t.dryRun ? 'A dry run records no execution.'
      : 'No execution was created.'));
  }

  if (Array.isArray(meta.trace)) out.appendChild(traceBox(meta.trace));

  out.appendChild(h('div', {class: 'card'}, h('h2', null, 'Answer'),
    h('pre', {class: 'json', id: 'trigger-answer'}, r.json !== null ? json(r.json) : r.text)));
  const again = hashFor('trigger', {collection: t.collection, keys: t.keys.join(',')});
  out.appendChild(h('p', null, h('a', {href: again}, 'Link to this form')));
}

// meta.trace: [{workflowId, workflowKey, title, sync, status, jobs: [{nodeId,
// nodeKey, type, title, status, result, durationMs}]}]
function traceBox(trace) {
  return h('div', {class: 'card', id: 'trigger-trace'}, h('h2', null, 'Trace'),
    trace.map((x) => h('div', {class: 'trace-run'},
      h('h3', null, x.title || x.workflowKey, ' ', h('code', null, x.workflowKey || ''), ' ',
        badge(x.status), ' ', x.sync ? 'sync' : 'async'),
      h('table', {class: 'table'},
        h('thead', null, h('tr', null, ['#', 'Node', 'Type', 'Status', 'Result', 'Duration']
          .map((c) => h('th', null, c)))),
        h('tbody', null, (x.jobs || []).map((j, i) => h('tr', null,
          h('td', {class: 'num'}, String(i + 1)),
          h('td', null, j.title || j.nodeKey),
          h('td', null, j.type || ''),
          h('td', null, badge(j.status, true)),
          h('td', {class: 'result'}, jsonBlock(j.result)),
          h('td', {class: 'num'}, fmtDuration(j.durationMs)))))))));
}
