// The console's only way out: the program's own HTTP API, with the signed-in
// user's token and the chosen role. Nothing else is fetched.
import config from './config.js';

const STORE = 'flowcgi-console';

// The API base URL, without a trailing slash.
export function apiBase() {
  const meta = document.querySelector('meta[name="flowcgi-api"]');
  let base = (meta && meta.content.trim()) || config.apiBase || '../api';
  base = new URL(base, document.baseURI).href;
  return base.replace(/\/+$/, '');
}

// The session lives in sessionStorage: one tab, gone when it closes.
export const session = {
  get() {
    try {
      return JSON.parse(sessionStorage.getItem(STORE)) || null;
    } catch (e) {
      return null;
    }
  },
  set(s) {
    sessionStorage.setItem(STORE, JSON.stringify(s));
  },
  update(fields) {
    const s = session.get();
    if (s) session.set(Object.assign(s, fields));
  },
  clear() {
    sessionStorage.removeItem(STORE);
  },
};

// An error answer of the API ({"errors":[{message, code, reason}]}) or a
// failure to reach it.
export class ApiError extends Error {
  constructor(status, errors, what) {
    const first = errors[0] || {};
    super(first.message || 'HTTP ' + status);
    this.name = 'ApiError';
    this.status = status;          // 0: the request did not reach the API
    this.errors = errors;          // [{message, code, reason}]
    this.code = first.code || '';
    this.reason = first.reason || '';
    this.what = what;              // "GET workflows:list"
  }

  // The session itself is bad (expired, signed out, forged token).
  get sessionGone() {
    return this.status === 401 && /TOKEN|SESSION|NOT_EXIST_USER/.test(this.code);
  }
}

// Query strings as the API reads them: objects as JSON (filter), arrays in
// the qs bracket form (appends[]=jobs).
export function queryString(query) {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(query || {})) {
    if (v === undefined || v === null || v === '') continue;
    if (Array.isArray(v)) v.forEach((x) => q.append(k + '[]', String(x)));
    else if (typeof v === 'object') q.append(k, JSON.stringify(v));
    else q.append(k, String(v));
  }
  const s = q.toString();
  return s ? '?' + s : '';
}

let onSessionGone = null;
export function setSessionGoneHandler(fn) {
  onSessionGone = fn;
}

// One API call. path: "workflows:list", "executions:get/3", ...
// Returns {status, ok, headers, json, data, meta, errors}; never throws for
// an HTTP error status (see call() for that).
export async function request(method, path, opts = {}) {
  const s = session.get();
  const headers = {Accept: 'application/json'};
  const token = opts.token !== undefined ? opts.token : s && s.token;
  const role = opts.role !== undefined ? opts.role : s && s.role;
  if (token) headers.Authorization = 'Bearer ' + token;
  if (role) headers['X-Role'] = role;
  Object.assign(headers, opts.headers || {});
  let body;
  if (opts.body !== undefined) {
    body = typeof opts.body === 'string' ? opts.body : JSON.stringify(opts.body);
    if (body !== '') headers['Content-Type'] = 'application/json';
  } else if (method !== 'GET' && method !== 'HEAD') {
    body = '';     // Content-Length: 0 (lighttpd answers 411 to a bodyless POST)
  }
  const url = apiBase() + '/' + path + queryString(opts.query);
  const what = method + ' ' + path;
  let res;
  try {
    res = await fetch(url, {method, headers, body, cache: 'no-store', credentials: 'omit'});
  } catch (e) {
    throw new ApiError(0, [{message: 'The API did not answer (' + e.message + ')',
                            code: 'NETWORK_ERROR', reason: url}], what);
  }
  // A session token renewed by the server (NocoBase's x-new-token).
  const renewed = res.headers.get('X-New-Token');
  if (renewed && s && token === s.token) session.update({token: renewed});
  const text = await res.text();
  let json = null;
  try {
    json = text ? JSON.parse(text) : null;
  } catch (e) {
    json = null;
  }
  const out = {
    status: res.status, ok: res.ok, headers: res.headers, text, json,
    data: json && typeof json === 'object' ? json.data : undefined,
    meta: json && typeof json === 'object' ? json.meta : undefined,
    errors: [],
  };
  if (!res.ok) {
    if (json && Array.isArray(json.errors) && json.errors.length) {
      out.errors = json.errors.map((e) => (e && typeof e === 'object' ? e : {message: String(e)}));
    } else {
      // Not the program's JSON: the web server's own page (502, 404, ...).
      const line = text.replace(/<[^>]*>/g, ' ').replace(/\s+/g, ' ').trim().slice(0, 200);
      out.errors = [{message: 'HTTP ' + res.status + ' ' + res.statusText,
                     code: 'HTTP_' + res.status, reason: line || url}];
    }
  }
  return out;
}

// request(), throwing ApiError for an error answer.
export async function call(method, path, opts = {}) {
  const r = await request(method, path, opts);
  if (!r.ok) {
    const err = new ApiError(r.status, r.errors, method + ' ' + path);
    if (err.sessionGone && onSessionGone && !opts.noSessionHandler) onSessionGone(err);
    throw err;
  }
  return r;
}

export const get = (path, query, opts = {}) => call('GET', path, Object.assign({query}, opts));
export const post = (path, body, query, opts = {}) =>
  call('POST', path, Object.assign({body, query}, opts));

// Every row of a list action, page after page.
export async function listAll(path, query = {}, max = 5000) {
  const rows = [];
  for (let page = 1; ; page++) {
    const r = await get(path, Object.assign({}, query, {page, pageSize: 500}));
    const data = Array.isArray(r.data) ? r.data : [];
    rows.push(...data);
    const total = r.meta && r.meta.totalPage;
    if (!data.length || !total || page >= total || rows.length >= max) return rows;
  }
}

// Run fn over items, at most `width` at a time.
export async function pool(items, width, fn) {
  const out = new Array(items.length);
  let next = 0;
  async function worker() {
    while (next < items.length) {
      const i = next++;
      out[i] = await fn(items[i], i);
    }
  }
  await Promise.all(Array.from({length: Math.min(width, items.length)}, worker));
  return out;
}

// Features that other parts of flowcgi add later; the console uses them when
// the server has them. Detected once per page load.
let features = null;
export async function serverFeatures() {
  if (features) return features;
  const f = {dryRun: false, source: 'not announced'};
  if (config.dryRun === true || config.dryRun === false) {
    f.dryRun = config.dryRun;
    f.source = 'config.js';
  } else {
    try {
      const r = await request('GET', 'openapi.json');
      if (r.ok && /dryRun/.test(r.text)) {
        f.dryRun = true;
        f.source = 'openapi.json';
      }
    } catch (e) {
      // no OpenAPI document: keep the defaults
    }
  }
  features = f;
  return f;
}
