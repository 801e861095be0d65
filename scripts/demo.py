#!/usr/bin/env python3
"""make run: a demo flowcgi behind lighttpd on 127.0.0.1, with curl commands.

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
import harness  # noqa: E402


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
        demo = harness.setup_samples(server, token)
    except (harness.HarnessError, harness.SetupError) as e:
        print('demo: FAILED: %s' % e, file=sys.stderr)
        harness.cleanup_all()
        return 1

    url = server.url
    auth = "-H 'Authorization: Bearer %s'" % token
    q = shlex.quote
    print('''
flowcgi demo: %(kind)s on %(url)s (FastCGI processes: %(pids)s)
database: %(db)s   (root: admin@nocobase.com / admin123, demo only)
server log: %(log)s

# sign in (prints a fresh token):
curl -s -X POST %(signin)s -H 'X-Authenticator: basic' -H 'Content-Type: application/json' \\
     -d '{"account":"admin@nocobase.com","password":"admin123"}'

# trigger the synchronous workflow "%(key)s" on row %(row)s; it copies indicator into the row:
curl -s -X POST %(trigger)s %(auth)s -H 'Content-Type: application/json' -d '{"indicator":42}'

# the row now has indicator 42:
curl -s %(get)s %(auth)s

# what the workflow did:
curl -s %(executions)s %(auth)s

Ctrl-C stops the server and removes %(base)s
''' % {
        'kind': server.kind, 'url': url, 'pids': ' '.join(map(str, server.fcgi_pids())) or 'on demand',
        'db': site.db, 'log': server.logs[0], 'base': site.base, 'auth': auth,
        'key': demo['key'], 'row': demo['row_id'],
        'signin': q(url + '/auth:signIn'),
        'trigger': q('%s/samples:trigger/%s?triggerWorkflows=%s' % (url, demo['row_id'], demo['key'])),
        'get': q('%s/samples:get/%s' % (url, demo['row_id'])),
        'executions': q('%s/executions:list?filter=%s&sort=-id' % (
            url, urllib.parse.quote('{"workflowId":%s}' % demo['workflow_id'], safe=''))),
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
