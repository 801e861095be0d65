// A workflow's nodes drawn as SVG: chains go down, branches stand side by
// side under their branching node (condition yes/no, multi-conditions,
// loop body, parallel branches) and join again below it.
//
// drawWorkflow(nodes, {jobs, onNodeClick, selectedId}) -> <svg>
//   nodes: flow_nodes rows (id, key, type, title, upstreamId, downstreamId,
//          branchIndex, config)
//   jobs:  optional, an execution's jobs: each node is coloured by the status
//          of its last job, nodes without a job are dimmed, the failed node is
//          highlighted.
import {s} from './dom.js';
import {statusName, isFailure} from './status.js';

const NODE_W = 200;
const NODE_H = 54;
const VGAP = 34;        // between a node and the next item of its chain
const HGAP = 24;        // between branch columns
const LABEL_H = 18;     // branch label above a branch column
const EMPTY_W = 90;
const EMPTY_H = 26;
const PAD = 16;
const END_H = 26;       // the end marker under the main chain
const LOOP_SIDE = 40;   // room beside a loop for its "next" and "done" edges

// Branch slots of a branching node: [{index, label}] in drawing order.
function branchSlots(node, present) {
  const cfg = node.config || {};
  const slots = [];
  const add = (index, label) => {
    if (!slots.some((x) => x.index === index)) slots.push({index, label});
  };
  switch (node.type) {
    case 'condition':
      add(1, 'yes');
      add(0, 'no');
      break;
    case 'multi-conditions': {
      const conds = Array.isArray(cfg.conditions) ? cfg.conditions : [];
      conds.forEach((c, i) => add(i + 1, (c && c.title) || 'condition ' + (i + 1)));
      present.filter((i) => i > 0).sort((a, b) => a - b)
        .forEach((i) => add(i, 'condition ' + i));
      add(0, 'otherwise');
      break;
    }
    case 'loop':
      if (present.length) add(Math.min(...present), 'each item');
      else add(0, 'each item');
      break;
    case 'parallel':
      present.sort((a, b) => a - b).forEach((i, n) => add(i, 'branch ' + (n + 1)));
      if (!slots.length) add(0, 'branch 1');
      break;
    default:
      present.sort((a, b) => a - b).forEach((i) => add(i, 'branch ' + i));
  }
  return slots;
}

const ALWAYS_BRANCHED = new Set(['loop', 'parallel']);

const LABEL_MAX = 18;
function labelWidth(label) {
  return Math.min(String(label).length, LABEL_MAX) * 6.5;
}

// Measure a chain starting at head (null: an empty branch).
function measureChain(head, g, seen) {
  const items = [];
  for (let n = head; n && !seen.has(n.id); n = g.byId.get(n.downstreamId)) {
    seen.add(n.id);
    items.push(measureNode(n, g, seen));
  }
  if (!items.length) return {items, w: EMPTY_W, h: EMPTY_H, empty: true};
  const w = Math.max(...items.map((i) => i.w));
  const hgt = items.reduce((a, i) => a + i.h, 0) + VGAP * (items.length - 1);
  return {items, w, h: hgt};
}

function measureNode(n, g, seen) {
  const kids = g.branches.get(n.id) || [];
  const present = [...new Set(kids.map((k) => k.branchIndex))];
  // A condition without branch nodes is a check on the chain (rejectOnFalse);
  // a loop or parallel node always shows its (maybe empty) branches.
  if (!kids.length && !ALWAYS_BRANCHED.has(n.type)) return {node: n, w: NODE_W, h: NODE_H, branches: []};
  const branches = branchSlots(n, present).map((slot) => {
    const head = kids.find((k) => k.branchIndex === slot.index) || null;
    const chain = measureChain(head, g, seen);
    // Room for the label beside the column's line.
    chain.w = Math.max(chain.w, 2 * (labelWidth(slot.label) + 8));
    return Object.assign(slot, {chain});
  });
  const bw = branches.reduce((a, b) => a + b.chain.w, 0) + HGAP * (branches.length - 1);
  const bh = Math.max(...branches.map((b) => b.chain.h));
  // A loop's back and exit edges run beside it.
  const side = n.type === 'loop' ? 2 * LOOP_SIDE : 0;
  return {
    node: n, branches, bw, bh,
    w: Math.max(NODE_W, bw) + side,
    h: NODE_H + VGAP + LABEL_H + bh + VGAP,
  };
}

export function drawWorkflow(nodes, opts = {}) {
  const g = {byId: new Map(), branches: new Map()};
  for (const n of nodes) g.byId.set(n.id, n);
  for (const n of nodes) {
    if (n.branchIndex !== null && n.branchIndex !== undefined && n.upstreamId != null) {
      if (!g.branches.has(n.upstreamId)) g.branches.set(n.upstreamId, []);
      g.branches.get(n.upstreamId).push(n);
    }
  }
  // Statuses from the jobs: the last job of each node wins.
  const jobOf = new Map();
  for (const j of opts.jobs || []) jobOf.set(j.nodeId, j);
  const failedId = opts.jobs ? lastFailedNode(opts.jobs) : null;

  // Heads: nodes without an upstream (the main chain first), then whatever
  // no chain reached (a damaged graph is still drawn).
  const seen = new Set();
  const heads = nodes.filter((n) => n.upstreamId == null && (n.branchIndex == null))
    .sort((a, b) => a.id - b.id);
  const chains = heads.map((hd) => measureChain(hd, g, seen));
  for (const n of [...nodes].sort((a, b) => a.id - b.id)) {
    if (!seen.has(n.id)) chains.push(Object.assign(measureChain(n, g, seen), {orphan: true}));
  }
  if (!chains.length) chains.push(measureChain(null, g, seen));

  const width = chains.reduce((a, c) => a + c.w, 0) + HGAP * 2 * (chains.length - 1) + PAD * 2;
  const height = Math.max(...chains.map((c) => c.h)) + PAD * 2 + 28 + END_H;

  const svg = s('svg', {
    class: 'drawing', xmlns: 'http://www.w3.org/2000/svg',
    viewBox: '0 0 ' + width + ' ' + height, width, height,
    role: 'img', 'aria-label': 'workflow nodes',
  });
  svg.appendChild(s('defs', null,
    s('marker', {id: 'arrow', viewBox: '0 0 10 10', refX: 9, refY: 5,
                 markerWidth: 7, markerHeight: 7, orient: 'auto-start-reverse'},
      s('path', {d: 'M0,0 L10,5 L0,10 z', class: 'arrowhead'}))));

  const ctx = {svg, jobOf, failedId, opts, hasJobs: !!opts.jobs};
  // The trigger on top of the main chain.
  let x = PAD;
  chains.forEach((c, i) => {
    const cx = x + c.w / 2;
    if (i === 0 && !c.orphan) {
      svg.appendChild(s('circle', {cx, cy: PAD + 8, r: 7, class: 'start'}));
      svg.appendChild(s('text', {x: cx + 12, y: PAD + 12, class: 'edge-label'},
        opts.triggerLabel || 'trigger'));
      line(svg, cx, PAD + 15, cx, PAD + 28, true);
    } else if (c.orphan) {
      svg.appendChild(s('text', {x: cx, y: PAD + 12, class: 'edge-label orphan-label',
                                 'text-anchor': 'middle'}, 'not linked'));
    }
    drawChain(ctx, c, cx, PAD + 28);
    if (i === 0 && !c.orphan && !c.empty) {
      // The end of the workflow.
      const end = PAD + 28 + c.h;
      line(svg, cx, end, cx, end + END_H - 14, false);
      svg.appendChild(s('circle', {cx, cy: end + END_H - 8, r: 6, class: 'finish'}));
    }
    x += c.w + HGAP * 2;
  });
  return svg;
}

function lastFailedNode(jobs) {
  let id = null;
  for (const j of jobs) if (isFailure(j.status)) id = j.nodeId;
  return id;
}

function line(svg, x1, y1, x2, y2, arrow, cls = 'edge') {
  svg.appendChild(s('path', {
    d: 'M' + x1 + ',' + y1 + ' L' + x2 + ',' + y2, class: cls,
    'marker-end': arrow ? 'url(#arrow)' : null,
  }));
}

function drawChain(ctx, chain, cx, y) {
  if (chain.empty) {
    ctx.svg.appendChild(s('rect', {x: cx - EMPTY_W / 2, y, width: EMPTY_W, height: EMPTY_H,
                                   rx: 13, class: 'empty-branch'}));
    ctx.svg.appendChild(s('text', {x: cx, y: y + EMPTY_H / 2 + 4, 'text-anchor': 'middle',
                                   class: 'empty-label'}, 'empty'));
    return;
  }
  chain.items.forEach((item, i) => {
    drawItem(ctx, item, cx, y);
    y += item.h;
    if (i < chain.items.length - 1) {
      line(ctx.svg, cx, y, cx, y + VGAP, true);
      y += VGAP;
    }
  });
}

function trunc(t, n) {
  t = String(t);
  return t.length > n ? t.slice(0, n - 1) + '…' : t;
}

function drawItem(ctx, item, cx, y) {
  const {svg, jobOf, failedId, opts} = ctx;
  const n = item.node;
  const job = jobOf.get(n.id);
  const cls = ['node', 'type-' + String(n.type).replace(/[^\w-]/g, '')];
  if (ctx.hasJobs) {
    cls.push(job ? 'status-' + statusName(job.status, true) : 'not-run');
    if (n.id === failedId) cls.push('failed-node');
  }
  if (opts.selectedId === n.id) cls.push('selected');
  const gEl = s('g', {class: cls.join(' '), dataset: {nodeId: n.id, nodeKey: n.key || ''},
                      tabindex: 0});
  const x = cx - NODE_W / 2;
  const status = ctx.hasJobs ? (job ? statusName(job.status, true) : 'not run') : null;
  gEl.appendChild(s('title', null,
    (n.title || '(untitled)') + '\n' + n.type + ' · id ' + n.id + ' · key ' + n.key +
    (status ? '\nstatus: ' + status : '')));
  gEl.appendChild(s('rect', {x, y, width: NODE_W, height: NODE_H, rx: 7, class: 'node-box'}));
  gEl.appendChild(s('rect', {x, y, width: 5, height: NODE_H, rx: 2, class: 'node-stripe'}));
  gEl.appendChild(s('text', {x: x + 14, y: y + 20, class: 'node-type'},
    trunc(n.type, 22) + (status ? ' · ' + status : '')));
  gEl.appendChild(s('text', {x: x + 14, y: y + 40, class: 'node-title'},
    trunc(n.title || '(untitled)', 24)));
  if (!status) {
    gEl.appendChild(s('text', {x: x + NODE_W - 8, y: y + 20, class: 'node-id',
                               'text-anchor': 'end'}, '#' + n.id));
  }
  if (opts.onNodeClick) {
    gEl.classList.add('clickable');
    gEl.addEventListener('click', () => opts.onNodeClick(n));
    gEl.addEventListener('keydown', (e) => {
      if (e.key === 'Enter' || e.key === ' ') {
        e.preventDefault();
        opts.onNodeClick(n);
      }
    });
  }
  svg.appendChild(gEl);
  if (!item.branches.length) return;

  // Branches: a bus under the node, one column per branch, a bus joining them.
  const top = y + NODE_H;
  const busY = top + VGAP / 2;
  const colTop = top + VGAP + LABEL_H;
  const joinY = colTop + item.bh + VGAP / 2;
  let bx = cx - item.bw / 2;
  const centers = item.branches.map((b) => {
    const c = bx + b.chain.w / 2;
    bx += b.chain.w + HGAP;
    return c;
  });
  line(svg, cx, top, cx, busY, false);
  if (centers.length > 1) line(svg, centers[0], busY, centers[centers.length - 1], busY, false);
  item.branches.forEach((b, i) => {
    const c = centers[i];
    line(svg, c, busY, c, colTop, true);
    svg.appendChild(s('text', {x: c + 5, y: top + VGAP + 6, class: 'edge-label branch-label'},
      trunc(b.label, LABEL_MAX)));
    drawChain(ctx, b.chain, c, colTop);
    const end = colTop + b.chain.h;
    if (n.type === 'loop') {
      // Back to the loop node for the next item.
      const rx = cx + Math.max(NODE_W, item.bw) / 2 + 12;
      svg.appendChild(s('path', {
        d: 'M' + c + ',' + end + ' L' + c + ',' + (end + 8) + ' L' + rx + ',' + (end + 8) +
           ' L' + rx + ',' + (y + NODE_H / 2) + ' L' + (cx + NODE_W / 2) + ',' + (y + NODE_H / 2),
        class: 'edge loop-back', 'marker-end': 'url(#arrow)',
      }));
      svg.appendChild(s('text', {x: rx + 3, y: y + NODE_H / 2 - 4, class: 'edge-label'}, 'next'));
    } else {
      line(svg, c, end, c, joinY, false);
    }
  });
  if (n.type === 'loop') {
    // After the last item the chain goes on from the loop node.
    const lx = cx - Math.max(NODE_W, item.bw) / 2 - 12;
    svg.appendChild(s('path', {
      d: 'M' + (cx - NODE_W / 2) + ',' + (y + NODE_H / 2) + ' L' + lx + ',' + (y + NODE_H / 2) +
         ' L' + lx + ',' + joinY + ' L' + cx + ',' + joinY,
      class: 'edge loop-done',
    }));
    svg.appendChild(s('text', {x: lx + 4, y: joinY - 4, class: 'edge-label'}, 'done'));
  } else if (centers.length > 1) {
    line(svg, centers[0], joinY, centers[centers.length - 1], joinY, false);
  }
  line(svg, cx, joinY, cx, y + item.h, false);
}
