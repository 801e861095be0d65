#!/usr/bin/env python3
"""One FastCGI process must not grow (called by `make check-mem`).

    python3 tests/http/memcheck.py --prog /abs/path/flowcgi.fcgi
        [--warmup 2000] [--requests 20000] [--threads 4] [--limit-kb 1024]
        [--mix list=3,get=3,check=1,create=1,update=1,notfound=1,badjson=1,trigger=1]
        [--env NAME=VALUE]...

Starts lighttpd with exactly one FastCGI process on a fresh site, signs in,
creates the `samples` demo (collection, row, sync workflow with an update
node) over the API, sends the warm-up requests, reads the worker's VmRSS from
/proc, sends the measured requests, reads VmRSS again, and fails if it grew by
more than --limit-kb. Every answer must be 2xx or 4xx: a 5xx, a connection
error or a restarted worker fails the check too.

Endpoints that the program does not implement yet are tolerated: if sign-in
or the demo setup fails, the check says so and goes on without a token or
without the trigger (the other requests then get 4xx answers, still fine).
"""

import argparse
import collections
import os
import sys
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402

DEFAULT_MIX = 'list=3,get=3,check=1,create=1,update=1,notfound=1,badjson=1,trigger=1'


def vm_rss_kb(pid):
    with open('/proc/%d/status' % pid) as f:
        for line in f:
            if line.startswith('VmRSS:'):
                return int(line.split()[1])
    raise RuntimeError('no VmRSS for pid %d' % pid)


class Mix:
    """The request kinds, interleaved by weight."""

    def __init__(self, spec, demo, token):
        self.demo = demo
        self.token = token
        weights = {}
        for part in spec.split(','):
            if not part.strip():
                continue
            name, _, w = part.partition('=')
            name = name.strip()
            if not hasattr(self, 'req_' + name):
                raise SystemExit('memcheck: unknown mix entry %r (known: %s)' % (
                    name, ', '.join(k[4:] for k in dir(self) if k.startswith('req_'))))
            weights[name] = int(w or 1)
        if 'trigger' in weights and not demo:
            print('memcheck: no demo workflow, leaving "trigger" out of the mix')
            del weights['trigger']
        if not weights:
            raise SystemExit('memcheck: empty mix')
        # Round-robin by weight: list,get,check,...,list,get,...
        self.schedule = []
        left = dict(weights)
        while any(left.values()):
            for name in weights:
                if left[name]:
                    self.schedule.append(name)
                    left[name] -= 1

    def request(self, server, i):
        name = self.schedule[i % len(self.schedule)]
        method, path, kw = getattr(self, 'req_' + name)(i)
        return name, server.request(method, path, token=self.token, **kw)

    def _row(self):
        return self.demo['row_id'] if self.demo else 1

    def req_list(self, i):
        return 'GET', 'samples:list?pageSize=20&sort=-id', {}

    def req_get(self, i):
        return 'GET', 'samples:get/%s' % self._row(), {}

    def req_check(self, i):
        return 'GET', 'auth:check', {}

    def req_create(self, i):
        return 'POST', 'samples:create', {'json': {'title': 'm%d' % i, 'indicator': i}}

    def req_update(self, i):
        return 'POST', 'samples:update?filterByTk=%s' % self._row(), {'json': {'indicator': i}}

    def req_notfound(self, i):
        return 'GET', 'no_such_collection:list', {}

    def req_badjson(self, i):
        return 'POST', 'samples:create', {'data': '{"title": "unterminated'}

    def req_trigger(self, i):
        return ('POST', 'samples:trigger/%s?triggerWorkflows=%s' % (self._row(), self.demo['key']),
                {'json': {'indicator': i}})


class Load:
    def __init__(self, server, mix, threads):
        self.server = server
        self.mix = mix
        self.threads = threads
        self.statuses = collections.Counter()
        self.bad = []
        self.lock = threading.Lock()
        self.next = 0

    def run(self, n):
        start = self.next
        end = start + n
        self.next = end
        counter = iter(range(start, end))
        take = threading.Lock()

        def worker():
            while True:
                with take:
                    i = next(counter, None)
                if i is None:
                    return
                try:
                    name, r = self.mix.request(self.server, i)
                except Exception as e:   # connection refused/reset, timeout
                    with self.lock:
                        self.bad.append('request %d: %s: %s' % (i, type(e).__name__, e))
                    continue
                with self.lock:
                    self.statuses[(name, r.status)] += 1
                    if not (200 <= r.status < 500):
                        if len(self.bad) < 20:
                            self.bad.append('request %d (%s): %s' % (i, name, harness.diagnose(r)))
                        else:
                            self.bad.append('request %d (%s): %d' % (i, name, r.status))
        ts = [threading.Thread(target=worker) for _ in range(self.threads)]
        t0 = time.monotonic()
        for t in ts:
            t.start()
        for t in ts:
            t.join()
        return time.monotonic() - t0


def main():
    ap = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    ap.add_argument('--prog', required=True)
    ap.add_argument('--warmup', type=int, default=2000)
    ap.add_argument('--requests', type=int, default=20000)
    ap.add_argument('--threads', type=int, default=4)
    ap.add_argument('--limit-kb', type=int, default=1024)
    ap.add_argument('--mix', default=DEFAULT_MIX)
    ap.add_argument('--env', action='append', default=[], metavar='NAME=VALUE',
                    help='extra environment for the program')
    ap.add_argument('--init', dest='init', action='store_true', default=True)
    ap.add_argument('--no-init', dest='init', action='store_false',
                    help='do not run `init` (for stand-in programs)')
    args = ap.parse_args()

    harness.PROG = os.path.abspath(args.prog)
    extra_env = dict(e.split('=', 1) for e in args.env)
    site = harness.Site(init=args.init)
    try:
        server = harness.start_lighttpd(site, procs=1, extra_env=extra_env)
        pids = server.fcgi_pids()
        if len(pids) != 1:
            time.sleep(0.2)
            print('memcheck: FAIL: expected one FastCGI process, found %s; %s log:\n%s'
                  % (pids, server.kind, server.log_tail()))
            return 1
        pid = pids[0]

        token = None
        try:
            token = harness.sign_in(server)
        except (harness.SetupError, OSError) as e:
            print('memcheck: sign-in failed, going on without a token: %s' % str(e)[:300])
        demo = None
        if token:
            try:
                demo = harness.setup_samples(server, token)
            except (harness.SetupError, OSError) as e:
                print('memcheck: demo setup failed, going on without it: %s' % str(e)[:300])
        mix = Mix(args.mix, demo, token)
        print('memcheck: pid %d, mix %s, %d threads' % (pid, ','.join(mix.schedule), args.threads))

        load = Load(server, mix, args.threads)
        dt = load.run(args.warmup)
        rss1 = vm_rss_kb(pid)
        print('memcheck: after %6d warm-up requests (%.1fs): VmRSS %d kB' % (args.warmup, dt, rss1))
        dt = load.run(args.requests)
        if server.fcgi_pids() != [pid]:
            load.bad.append('the FastCGI process changed: %d -> %s (crashed and restarted?)'
                            % (pid, server.fcgi_pids()))
            rss2 = rss1
        else:
            rss2 = vm_rss_kb(pid)
        print('memcheck: after %6d more requests    (%.1fs, %.0f req/s): VmRSS %d kB'
              % (args.requests, dt, args.requests / dt if dt else 0, rss2))
        print('memcheck: answers: ' + ', '.join(
            '%s %d x%d' % (k[0], k[1], v) for k, v in sorted(load.statuses.items())))
        growth = rss2 - rss1
        ok = True
        if load.bad:
            ok = False
            print('memcheck: FAIL: %d bad answers (5xx or connection errors), first ones:'
                  % len(load.bad))
            for b in load.bad[:10]:
                print('  ' + b)
        if growth > args.limit_kb:
            ok = False
            print('memcheck: FAIL: VmRSS grew by %d kB (limit %d kB)' % (growth, args.limit_kb))
        server.stop()
        if harness.sanitizer_reports:
            ok = False
            print('memcheck: FAIL: sanitizer reports in the server logs')
        if ok:
            print('memcheck: ok: VmRSS %d kB -> %d kB (%+d kB, limit %d kB)'
                  % (rss1, rss2, growth, args.limit_kb))
        return 0 if ok else 1
    except harness.HarnessError as e:
        print('memcheck: FAIL: %s' % e)
        return 1
    finally:
        site.close()


if __name__ == '__main__':
    sys.exit(main())
