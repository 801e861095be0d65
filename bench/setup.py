#!/usr/bin/env python3
"""Servers and demo data for bench/bench.sh.

    python3 bench/setup.py --prog cgi-bin/flowcgi.fcgi --hello bench/hello.fcgi \
        --procs 4 [--procs2 2] --vars FILE  < pipe

Starts three lighttpd servers from the same test config with the same number
of FastCGI processes: two run hello.fcgi (the baseline as libfcgi ships it,
and with HELLO_PLAIN_CLOSE the one that closes like flowcgi), one runs flowcgi on
a fresh site (init). Then it makes the demo over flowcgi's HTTP API (sign in;
collection `samples`; one row; an enabled sync custom-action workflow with one
update node) and writes shell assignments to FILE:

    HELLO_URL=...  HELLO_CLOSE_URL=...  API=...  TOKEN=...  KEY=...  ROW=...
    API2=...  TOKEN2=...  KEY2=...  ROW2=...  SETUP_ERROR=...

With --procs2 N a second flowcgi site, the same demo on a database of its
own, runs with N FastCGI processes (API2...): bench.sh compares the two
process counts in interleaved runs.

SETUP_ERROR is empty when everything worked, else it says which step failed
and what the program answered (the hello servers still run). The servers run
until stdin reaches end of file (bench.sh holds the pipe; if bench.sh dies,
the pipe closes and they stop) or SIGTERM.
"""

import argparse
import os
import shlex
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(os.path.dirname(HERE), 'tests', 'http'))
import harness  # noqa: E402


def demo_site(prog, backend, procs):
    """A fresh flowcgi site behind lighttpd with the demo in it: its API
    URL, a token, the workflow's key and the row's id."""
    site = harness.Site(prog=prog, backend=backend)
    api = harness.start_lighttpd(site, procs=procs)
    token = harness.sign_in(api)
    demo = harness.setup_samples(api, token)
    return api.url, token, demo['key'], str(demo['row_id'])


def main():
    ap = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    ap.add_argument('--prog', required=True)
    ap.add_argument('--hello', required=True)
    ap.add_argument('--procs', type=int, default=4)
    ap.add_argument('--procs2', type=int, default=0,
                    help='also a flowcgi site with this many processes (API2)')
    ap.add_argument('--vars', required=True)
    ap.add_argument('--pg', action='store_true',
                    help='also a flowcgi site on a scratch PostgreSQL 15 database')
    args = ap.parse_args()

    out = {'HELLO_URL': '', 'HELLO_CLOSE_URL': '', 'SETUP_ERROR': ''}
    for suffix in ('', '2', '_PG'):
        out.update({k + suffix: '' for k in ('API', 'TOKEN', 'KEY', 'ROW')})
    hello_site = harness.Site(prog=args.hello, init=False, backend='sqlite')
    hello = harness.start_lighttpd(hello_site, procs=args.procs)
    out['HELLO_URL'] = hello.url + '/hello'
    # The same program ending connections the way flowcgi does.
    close_site = harness.Site(prog=args.hello, init=False, backend='sqlite')
    hello_close = harness.start_lighttpd(close_site, procs=args.procs,
                                         extra_env={'HELLO_PLAIN_CLOSE': '1'})
    out['HELLO_CLOSE_URL'] = hello_close.url + '/hello'
    try:
        url, token, key, row = demo_site(args.prog, 'sqlite', args.procs)
        out.update(API=url, TOKEN=token, KEY=key, ROW=row)
        print('setup: %d x hello.fcgi at %s, %d x flowcgi at %s, workflow %s'
              % (args.procs, hello.url, args.procs, url, key), file=sys.stderr)
        if args.procs2:
            url, token, key, row = demo_site(args.prog, 'sqlite', args.procs2)
            out.update(API2=url, TOKEN2=token, KEY2=key, ROW2=row)
            print('setup: %d x flowcgi at %s' % (args.procs2, url), file=sys.stderr)
        if args.pg:
            url, token, key, row = demo_site(args.prog, 'pg', args.procs)
            out.update(API_PG=url, TOKEN_PG=token, KEY_PG=key, ROW_PG=row)
            print('setup: %d x flowcgi on PostgreSQL at %s' % (args.procs, url),
                  file=sys.stderr)
    except (harness.HarnessError, harness.SetupError, OSError) as e:
        out['SETUP_ERROR'] = str(e)[:2000] or type(e).__name__

    tmp = args.vars + '.tmp'
    with open(tmp, 'w') as f:
        for k, v in out.items():
            f.write('%s=%s\n' % (k, shlex.quote(v)))
    os.rename(tmp, args.vars)

    try:
        while sys.stdin.buffer.read(4096):
            pass
    except KeyboardInterrupt:
        pass
    harness.cleanup_all()
    if args.pg:
        import pgcluster
        pgcluster.stop()
    return 0


if __name__ == '__main__':
    sys.exit(main())
