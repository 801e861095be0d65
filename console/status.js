// Execution and job statuses (NocoBase's numbers) and how they are shown.
import {h} from './dom.js';

// [value, name]; an execution's null is "queued", a job's 0 is "pending".
export const EXECUTION_STATUSES = [
  [null, 'queued'], [0, 'started'], [1, 'resolved'], [-1, 'failed'],
  [-2, 'error'], [-3, 'aborted'], [-4, 'canceled'], [-5, 'rejected'],
];

export function statusName(v, job = false) {
  if (v === undefined) return 'not run';
  if (job && v === 0) return 'pending';
  const hit = EXECUTION_STATUSES.find(([n]) => n === v);
  return hit ? hit[1] : String(v);
}

export function statusValue(name) {
  const hit = EXECUTION_STATUSES.find(([, n]) => n === name);
  return hit ? hit[0] : undefined;
}

export function isFailure(v) {
  return typeof v === 'number' && v < 0;
}

// A coloured badge; the class is status-<name>.
export function badge(v, job = false) {
  const name = statusName(v, job);
  return h('span', {class: 'badge status-' + name.replace(/\s+/g, '-'), title: 'status ' + v},
    name);
}
