#!/usr/bin/env python3
"""make run: a demo flowcgi behind lighttpd on 127.0.0.1, with curl commands
and the web console at /console/.

    python3 scripts/demo.py [--prog cgi-bin/flowcgi.fcgi] [--port 8080] [--apache]

Creates a fresh demo site in a temp dir (init, root password admin123),
serves it with lighttpd (or Apache with --apache) from the shipped configs,
creates the demo over the HTTP API (collection `samples`, a row, an enabled
synchronous workflow whose update node copies `indicator` into the row),
prints curl commands with a working token, and serves until Ctrl-C; then it
stops the server and removes the temp dir.
"""

import argparse
import os
import shlex
import signal
import socket
import sys
import urllib.parse

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(ROOT, 'tests', 'http'))
sys.path.insert(0, os.path.join(ROOT, 'scripts'))
import harness  # noqa: E402
from demo_data import setup_demo  # noqa: E402


def port_is_free(port):
    with socket.socket() as s:
        try:
            s.bind(('127.0.0.1', port))
            return True
        except OSError:
            return False


def main():
    ap = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    ap.add_argument('--prog', default=os.path.join(ROOT, 'cgi-bin', 'flowcgi.fcgi'))
    ap.add_argument('--port', type=int, default=int(os.environ.get('FLOWCGI_PORT', 8080)))
    ap.add_argument('--apache', action='store_true', help='serve with Apache + mod_fcgid')
    args = ap.parse_args()

    harness.PROG = os.path.abspath(args.prog)
    port = args.port if port_is_free(args.port) else None
    start = harness.start_apache if args.apache else harness.start_lighttpd
    try:
        site = harness.Site()
        server = start(site, procs=2, port=port)
        token = harness.sign_in(server)
        demo = setup_demo(server, token)
    except (harness.HarnessError, harness.SetupError) as e:
        print('demo: FAILED: %s' % e, file=sys.stderr)
        harness.cleanup_all()
        return 1

    url = server.url
    q = shlex.quote
    H = "-H 'Authorization: Bearer %s' -H 'X-Role: root'" % token
    J = "-H 'Content-Type: application/json'"
    keys = '%s,%s' % (demo['reject'], demo['grade'])
    sid = demo['sample_id']
    print('''
flowcgi demo: %(kind)s on %(url)s (FastCGI processes: %(pids)s)
database: %(db)s   (root: admin@nocobase.com / admin123, demo only)
server log: %(log)s

Console: open %(console)s in a browser and sign in as
admin@nocobase.com / admin123 (workflows, drawings, executions, a trigger form).

Workflows: "%(reject)s" refuses an indicator below 10 with a message;
"%(grade)s" grades a sample (A from 90, B from 60, else C); "%(count)s"
counts a category's posts.

# 1. no id, the body is the context: a new sample is created and graded
curl -s -X POST %(H)s %(J)s -d '{"title":"Sample 1","indicator":91}' %(t_new)s

# 2. an id: the stored row (indicator 72) is graded B
#    (-d '' sends Content-Length: 0; lighttpd answers 411 to a POST without it)
curl -s -X POST %(H)s -d '' %(t_id)s

# 3. an id and a body: the body overlays the row before the workflows see it
curl -s -X POST %(H)s %(J)s -d '{"title":"Sample 1","indicator":5}' %(t_id)s

# 4. key!category: the categories workflow runs on the category of post 1
curl -s -X POST %(H)s -d '' %(t_cat)s

# see the results
curl -s %(H)s %(samples)s
curl -s %(H)s %(cats)s
curl -s %(H)s %(execs)s

# sign in again (prints a fresh token):
curl -s -X POST %(signin)s -H 'X-Authenticator: basic' %(J)s -d '{"account":"admin@nocobase.com","password":"admin123"}'

Ctrl-C stops the server and removes %(base)s
''' % {
        'kind': server.kind, 'url': url,
        'console': url[:-len('/api')] + '/console/',
        'pids': ' '.join(map(str, server.fcgi_pids())) or 'on demand',
        'db': site.db, 'log': server.logs[0], 'base': site.base, 'H': H, 'J': J,
        'reject': demo['reject'], 'grade': demo['grade'], 'count': demo['count'],
        't_new': q('%s/samples:trigger?triggerWorkflows=%s' % (url, keys)),
        't_id': q('%s/samples:trigger/%s?triggerWorkflows=%s' % (url, sid, keys)),
        't_cat': q('%s/posts:trigger/1?triggerWorkflows=%s!category' % (url, demo['count'])),
        'samples': q('%s/samples:list?sort=id' % url),
        'cats': q('%s/categories:list' % url),
        'execs': q('%s/executions:list?sort=-id&pageSize=5&filter=%s' % (
            url, urllib.parse.quote('{"workflowId":%s}' % demo['grade_id'], safe=''))),
        'signin': q(url + '/auth:signIn'),
    }, flush=True)
    # Ctrl-C even when started in the background (where SIGINT is ignored).
    signal.signal(signal.SIGINT, signal.default_int_handler)
    try:
        while server.running():
            signal.pause()
    except KeyboardInterrupt:
        print('\ndemo: stopping')
    site.close()
    return 0


if __name__ == '__main__':
    sys.exit(main())
