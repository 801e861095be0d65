#!/usr/bin/env python3
"""The shape of the house, checked (make check-structure, part of make test):

- no circle between files: the file graph is read from the object files'
  symbols (`nm`: file A uses file B when A leaves undefined a symbol B
  defines); files that share a prefix with a private header
  (src/<prefix>_int.h) may call each other, every other strongly
  connected set of files is a circle;
- function sizes, counted with universal-ctags over src/*.c whatever their
  kind: at most five over 80 lines and none over 120.

    python3 scripts/structure.py build    # the object directory
"""

import collections
import glob
import os
import subprocess
import sys

MAX_OVER_80 = 5
HARD_MAX = 120


def graph(objdir):
    defs, undef = {}, {}
    for o in sorted(glob.glob(os.path.join(objdir, '*.o'))):
        name = os.path.basename(o)[:-2]
        if not os.path.exists(os.path.join('src', name + '.c')):
            continue  # a stale object of a file that is gone
        out = subprocess.run(['nm', o], capture_output=True, text=True).stdout
        undef[name] = set()
        for line in out.splitlines():
            p = line.split()
            if len(p) == 3 and p[1] in 'TDBR':
                defs[p[2]] = name
            elif len(p) == 2 and p[0] == 'U':
                undef[name].add(p[1])
    g = collections.defaultdict(set)
    for n, syms in undef.items():
        for s in syms:
            if s in defs and defs[s] != n:
                g[n].add(defs[s])
    return list(undef), g


def sccs(nodes, g):
    index, low, stack, on, out, counter = {}, {}, [], set(), [], [0]
    sys.setrecursionlimit(10000)

    def visit(v):
        index[v] = low[v] = counter[0]
        counter[0] += 1
        stack.append(v)
        on.add(v)
        for w in g[v]:
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop()
                on.discard(w)
                comp.append(w)
                if w == v:
                    break
            if len(comp) > 1:
                out.append(sorted(comp))
    for v in nodes:
        if v not in index:
            visit(v)
    return out


def sanctioned(comp):
    """All files share a prefix that has a private header."""
    prefix = os.path.commonprefix(comp)
    while prefix:
        p = prefix.rstrip('_')
        if p and os.path.exists(os.path.join('src', p + '_int.h')) and \
                all(c == p or c.startswith(p + '_') for c in comp):
            return True
        prefix = prefix[:-1]
    return False


def sizes():
    out = subprocess.run(['ctags', '--fields=+ne', '-o', '-', '--c-kinds=f']
                         + sorted(glob.glob('src/*.c')),
                         capture_output=True, text=True).stdout
    rows = []
    for line in out.splitlines():
        f = line.split('\t')
        start = end = None
        for x in f:
            if x.startswith('line:'):
                start = int(x[5:])
            elif x.startswith('end:'):
                end = int(x[4:])
        if start and end:
            rows.append((end - start + 1, f[0], f[1]))
    return sorted(rows, reverse=True)


def main():
    objdir = sys.argv[1] if len(sys.argv) > 1 else 'build'
    nodes, g = graph(objdir)
    bad = 0
    print('files: %d, file-level edges: %d' % (len(nodes), sum(len(v) for v in g.values())))
    for comp in sccs(nodes, g):
        ok = sanctioned(comp)
        print('%s: %s' % ('shared private header' if ok else 'CIRCLE', ' '.join(comp)))
        bad += not ok
    rows = sizes()
    over = [r for r in rows if r[0] > 80]
    print('functions: %d; over 80 lines: %d (at most %d), longest: %s'
          % (len(rows), len(over), MAX_OVER_80,
             ', '.join('%s %d (%s)' % (n, s, f) for s, n, f in rows[:5])))
    if len(over) > MAX_OVER_80:
        bad += 1
        print('TOO MANY LONG FUNCTIONS: ' + ', '.join('%s %d' % (n, s) for s, n, _ in over))
    if rows and rows[0][0] > HARD_MAX:
        bad += 1
        print('FUNCTION OVER %d LINES: %s' % (HARD_MAX, rows[0][1]))
    return 1 if bad else 0


if __name__ == '__main__':
    sys.exit(main())
