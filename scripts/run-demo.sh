#!/bin/sh
# make run: serve a demo flowcgi on 127.0.0.1 and print curl commands
# (scripts/demo.py does the work; FLOWCGI_PORT picks the port, default 8080).
cd "$(dirname "$0")/.." || exit 1
exec python3 scripts/demo.py "$@"
