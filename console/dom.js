// DOM building without innerHTML: every text from the API goes in as text.

// h('a', {href: '#/x', class: 'btn', onclick: fn}, 'text', child, [more])
export function h(tag, attrs, ...children) {
  const el = document.createElement(tag);
  setAttrs(el, attrs);
  append(el, children);
  return el;
}

const SVG_NS = 'http://www.w3.org/2000/svg';
export function s(tag, attrs, ...children) {
  const el = document.createElementNS(SVG_NS, tag);
  setAttrs(el, attrs);
  append(el, children);
  return el;
}

function setAttrs(el, attrs) {
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v === undefined || v === null || v === false) continue;
    if (k.startsWith('on') && typeof v === 'function') el.addEventListener(k.slice(2), v);
    else if (k === 'dataset') Object.assign(el.dataset, v);
    else if (k === 'value' && 'value' in el && el.namespaceURI !== SVG_NS) el.value = v;
    else if (k === 'checked' || k === 'selected' || k === 'disabled') el[k] = !!v;
    else el.setAttribute(k, v === true ? '' : String(v));
  }
}

export function append(el, children) {
  for (const c of children.flat(Infinity)) {
    if (c === undefined || c === null || c === false) continue;
    el.appendChild(c instanceof Node ? c : document.createTextNode(String(c)));
  }
  return el;
}

export function clear(el) {
  while (el.firstChild) el.removeChild(el.firstChild);
  return el;
}

// The box every view shows when an API call fails: the API's message, its
// code and reason, and what was asked. Never a blank page.
export function errorBox(err, title) {
  const errors = err && Array.isArray(err.errors) && err.errors.length
    ? err.errors : [{message: (err && err.message) || String(err)}];
  return h('div', {class: 'error-box', role: 'alert'},
    title ? h('p', {class: 'error-title'}, title) : null,
    errors.map((e) => h('div', {class: 'error-item'},
      h('span', {class: 'error-message'}, e.message || '(no message)'),
      e.code ? h('code', {class: 'error-code'}, e.code) : null,
      e.reason ? h('div', {class: 'error-reason'}, e.reason) : null)),
    err && err.status !== undefined
      ? h('div', {class: 'error-meta'},
        (err.status ? 'HTTP ' + err.status : 'no answer') + (err.what ? ' · ' + err.what : ''))
      : null);
}

export function fmtTime(iso) {
  if (!iso) return '';
  const d = new Date(iso);
  if (isNaN(d)) return String(iso);
  const p = (n, w = 2) => String(n).padStart(w, '0');
  return d.getFullYear() + '-' + p(d.getMonth() + 1) + '-' + p(d.getDate()) + ' ' +
    p(d.getHours()) + ':' + p(d.getMinutes()) + ':' + p(d.getSeconds()) + '.' +
    p(d.getMilliseconds(), 3);
}

export function durationMs(from, to) {
  const a = Date.parse(from);
  const b = Date.parse(to);
  if (isNaN(a) || isNaN(b)) return null;
  return Math.max(0, b - a);
}

export function fmtDuration(ms) {
  if (ms === null || ms === undefined) return '';
  if (ms < 1000) return ms + ' ms';
  if (ms < 60000) return (ms / 1000).toFixed(ms < 10000 ? 2 : 1) + ' s';
  return Math.floor(ms / 60000) + ' min ' + Math.round((ms % 60000) / 1000) + ' s';
}

export function json(v, indent = 2) {
  try {
    return JSON.stringify(v, null, indent);
  } catch (e) {
    return String(v);
  }
}

// A JSON value in a <pre>; long ones folded in a <details>.
export function jsonBlock(v, cls = 'json') {
  if (v === undefined) return h('pre', {class: cls}, '');
  const line = json(v, 0);
  if (line.length <= 80) return h('pre', {class: cls}, line);
  return h('details', {class: 'json-fold'},
    h('summary', null, line.slice(0, 77) + '…'),
    h('pre', {class: cls}, json(v)));
}

// Location hash parts: "#/executions/3?status=failed" -> {path: ['executions','3'], params}
export function parseHash(hash) {
  const raw = (hash || '').replace(/^#/, '');
  const [p, q] = raw.split('?');
  const path = (p || '').split('/').filter(Boolean).map(decodeURIComponent);
  return {path, params: new URLSearchParams(q || '')};
}

export function hashFor(path, params) {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(params || {})) {
    if (v !== undefined && v !== null && v !== '') q.set(k, String(v));
  }
  const qs = q.toString();
  return '#/' + path + (qs ? '?' + qs : '');
}

// Replace el's children (arrays flattened, nulls skipped).
export function replace(el, ...children) {
  return append(clear(el), children);
}
