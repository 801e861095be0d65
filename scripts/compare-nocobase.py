#!/usr/bin/env python3
"""Compare flowcgi with a real NocoBase 2.2.15 after `import nocobase` (issue 16).

By hand, never in CI: needs the oracle of ../shared/oracle installed
(install.sh), set up once (setup.sh) and its state right after setup.sh
saved as <oracle>/after-setup.dump (pg_dump -Fc of the nocobase database).

  scripts/compare-nocobase.py /path/to/oracle [out-dir]

It puts the oracle's database back to that state and starts NocoBase,
imports it (--rows, --app-dir) into a fresh flowcgi site on SQLite and on
PostgreSQL (a database flowcgi_cmp in the oracle's cluster), replays the
oracle's request set (replay.sh) against NocoBase and against each flowcgi
behind Apache, and prints, per backend, every request whose status or body
differs (timestamps, tokens and ids aside; flowcgi's additional error
`code`/`reason` aside) and whether the rows each site holds afterwards are
the same. The oracle is stopped at the end.
"""
import json, os, re, subprocess, sys, urllib.request

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, '..', 'tests', 'http'))
import harness  # noqa: E402

harness.PROG = harness.PROG or os.path.join(HERE, '..', 'cgi-bin', 'flowcgi.fcgi')

ORACLE = os.path.abspath(sys.argv[1]) if len(sys.argv) > 1 else sys.exit(__doc__)
OUT = os.path.abspath(sys.argv[2] if len(sys.argv) > 2 else 'compare-nocobase.out')
PG = '127.0.0.1 -p 5433'
SRC = 'postgresql://nocobase:nocobase@127.0.0.1:5433/nocobase'
VOLATILE = {'createdAt', 'updatedAt', 'startedAt', 'expiresAt', 'token', 'id', 'executionId',
            'jobId', 'signInTime', 'iat', 'exp', 'issuedTime', 'eventKey'}


def sh(cmd):
    subprocess.run(cmd, shell=True, check=True, stdout=subprocess.DEVNULL)


def restore():
    """The oracle's database as it was right after setup.sh, NocoBase started."""
    sh('cd %s && ./stop.sh >/dev/null 2>&1 || true' % ORACLE)
    sh("su postgres -s /bin/sh -c \"/usr/lib/postgresql/15/bin/pg_ctl -D '%s/pgdata' -l '%s/pg.log' "
       "-o '-c listen_addresses=127.0.0.1 -p 5433 -k /tmp' -w start\"" % (ORACLE, ORACLE))
    sh("psql -h %s -U postgres -qc 'drop database nocobase with (force)' "
       "-c 'create database nocobase owner nocobase'" % PG)
    sh('pg_restore -h %s -U nocobase -d nocobase %s/after-setup.dump' % (PG, ORACLE))
    sh('rm -f %s/nb/storage/apps/main/jwt_secret.dat && %s/start.sh' % (ORACLE, ORACLE))


def call(base, method, path, body=None, token=None):
    req = urllib.request.Request(base + '/api/' + path, method=method,
                                 data=json.dumps(body).encode() if body else None)
    req.add_header('Content-Type', 'application/json')
    req.add_header('X-Authenticator', 'basic')
    if token:
        req.add_header('Authorization', 'Bearer ' + token)
    return json.loads(urllib.request.urlopen(req).read())


def rows(base):
    t = call(base, 'POST', 'auth:signIn',
             {'account': 'admin@nocobase.com', 'password': 'admin123'})['data']['token']
    return {c: [{k: v for k, v in r.items() if k not in ('createdAt', 'updatedAt')}
                for r in call(base, 'GET', '%s:list?paginate=false&sort=%s'
                              % (c, 'name' if c == 'roles' else 'id'), token=t)['data']]
            for c in ('samples', 'categories', 'posts', 'users', 'roles')}


def replay(base, name):
    out = subprocess.run([ORACLE + '/replay.sh', base], capture_output=True, text=True).stdout
    with open('%s/replay-%s.txt' % (OUT, name), 'w') as f:
        f.write(out)
    return parse(out), rows(base)


def parse(text):
    out, cur = [], None
    for line in text.splitlines():
        if line.startswith('################'):
            cur = {'name': line[17:], 'status': None, 'body': None}
            out.append(cur)
        elif cur is not None and re.match(r'HTTP/1\.[01] \d{3}', line):
            cur['status'] = int(line.split()[1])
        elif cur is not None and line.startswith(('{', '[')) and cur['body'] is None:
            try:
                cur['body'] = json.loads(line)
            except ValueError:
                cur['body'] = line
    return out


def norm(v, errors=False):
    if isinstance(v, dict):
        return {k: ('<%s>' % k if k in VOLATILE and not isinstance(x, (dict, list))
                    else norm(x, errors or k == 'errors'))
                for k, x in v.items() if not (errors and k in ('code', 'reason'))}
    if isinstance(v, list):
        return [norm(x, errors) for x in v]
    return v


def report(backend, nb, fc):
    (na, nr), (fa, fr) = nb, fc
    same = 0
    for x, y in zip(na, fa):
        if x['status'] == y['status'] and norm(x['body']) == norm(y['body']):
            same += 1
            continue
        print('DIFF %s\n  nocobase %s %s\n  flowcgi  %s %s' % (
            x['name'], x['status'], json.dumps(norm(x['body']))[:300],
            y['status'], json.dumps(norm(y['body']))[:300]))
    print('%s: %d requests, %d the same, %d differ' % (backend, len(na), same, len(na) - same))
    for c in nr:
        print('  rows of %-10s %s' % (c, 'same' if nr[c] == fr[c] else 'DIFFER'))


def main():
    os.makedirs(OUT, exist_ok=True)
    restore()
    sites = {}
    try:
        for backend in ('sqlite', 'pg'):
            site = harness.Site(init=False)
            if backend == 'pg':
                sh("psql -h %s -U postgres -qc 'drop database if exists flowcgi_cmp with (force)' "
                   "-c 'create database flowcgi_cmp owner nocobase'" % PG)
                site.db = site.env['FLOWCGI_DB'] = \
                    'postgresql://nocobase:nocobase@127.0.0.1:5433/flowcgi_cmp'
            assert site.cli('init').returncode == 0
            r = site.cli('import', 'nocobase', '--from', SRC, '--rows', '--app-dir', ORACLE + '/nb')
            with open('%s/import-%s.txt' % (OUT, backend), 'w') as f:
                f.write(r.stdout + r.stderr)
            print('%s: import nocobase exit %d' % (backend, r.returncode))
            if backend == 'sqlite':
                os.chown(site.db, *harness._www_ids())
            sites[backend] = site
        nb = replay('http://127.0.0.1:13000', 'nocobase')
        for backend, site in sites.items():
            srv = harness.start_apache(site, port=18080)
            try:
                fc = replay('http://127.0.0.1:18080', 'flowcgi-' + backend)
            finally:
                srv.stop()
            report(backend, nb, fc)
    finally:
        for site in sites.values():
            site.close()
        sh('cd %s && ./stop.sh >/dev/null 2>&1 || true' % ORACLE)


if __name__ == '__main__':
    main()
