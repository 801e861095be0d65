#!/bin/sh
# Installs the Debian packages flowcgi needs to build, test, run and benchmark.
# (chromium, chromium-driver and python3-selenium: the console's browser test,
# which runs /usr/bin/python3, where Debian's python3-selenium lives;
# prometheus: promtool checks the metrics; clang and libclang-rt-14-dev:
# the libFuzzer targets of make fuzz-smoke.)
# As root it runs apt-get; otherwise it prints the exact command and fails.
#
# Then the OpenAPI 3.1 validator, which Debian does not package (its
# openapi-specification and JSON::Validator stop at 3.0): the npm package
# @apidevtools/swagger-parser, pinned with its dependencies in
# tests/http/openapi/package-lock.json, installed there by `npm ci` from the
# npm registry (with Debian's nodejs and npm when no npm is installed).
set -e
PKGS="build-essential pkg-config libfcgi-dev libfcgi-bin libjson-c-dev libsqlite3-dev sqlite3 \
libssl-dev libcurl4-openssl-dev libcmocka-dev libpq-dev postgresql-15 lighttpd apache2 libapache2-mod-fcgid \
curl wrk python3 procps util-linux nginx gcovr universal-ctags binutils chromium chromium-driver python3-selenium \
prometheus clang libclang-rt-14-dev"
OPENAPI_DIR="$(dirname "$0")/../tests/http/openapi"

npm_deps() {
	[ -f "$OPENAPI_DIR/node_modules/.package-lock.json" ] &&
		[ "$OPENAPI_DIR/node_modules/.package-lock.json" -nt "$OPENAPI_DIR/package-lock.json" ] &&
		return 0
	echo "flowcgi: npm ci in tests/http/openapi (the OpenAPI validator)"
	(cd "$OPENAPI_DIR" && npm ci --no-audit --no-fund --loglevel=error >/dev/null)
}

missing=""
for p in $PKGS; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" ||
		missing="$missing $p"
done
command -v npm >/dev/null 2>&1 || missing="$missing nodejs npm"
if [ -z "$missing" ]; then
	npm_deps
	exit 0
fi
if [ "$(id -u)" != 0 ]; then
	echo "flowcgi: missing packages:$missing" >&2
	echo "run: sudo apt-get update && sudo apt-get install -y$missing" >&2
	exit 1
fi
echo "flowcgi: installing$missing"
export DEBIAN_FRONTEND=noninteractive
# Keep package installs from starting system daemons on ports we do not own.
if [ ! -e /usr/sbin/policy-rc.d ]; then
	printf '#!/bin/sh\nexit 101\n' > /usr/sbin/policy-rc.d
	chmod +x /usr/sbin/policy-rc.d
	trap 'rm -f /usr/sbin/policy-rc.d' EXIT
fi
apt-get update -qq
apt-get install -y -qq --no-install-recommends $missing >/dev/null
npm_deps
