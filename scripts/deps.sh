#!/bin/sh
# Installs the Debian packages flowcgi needs to build, test, run and benchmark.
# As root it runs apt-get; otherwise it prints the exact command and fails.
set -e
PKGS="build-essential pkg-config libfcgi-dev libfcgi-bin libjson-c-dev libsqlite3-dev sqlite3 \
libssl-dev libcurl4-openssl-dev libcmocka-dev lighttpd apache2 libapache2-mod-fcgid \
curl wrk python3 procps util-linux clang libclang-rt-14-dev"
missing=""
for p in $PKGS; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" ||
		missing="$missing $p"
done
[ -z "$missing" ] && exit 0
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
