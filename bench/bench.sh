#!/bin/bash
# make bench: wrk against flowcgi and a hello-world FastCGI baseline, both
# behind lighttpd with the same config and the same number of FastCGI
# processes. Prints a table and writes it to bench/results/latest.md.
#
# Knobs (environment): PROG (default cgi-bin/flowcgi.fcgi), BENCH_PROCS (1),
# BENCH_DURATION (10s), BENCH_RUNS (3, the median is reported),
# BENCH_CONNECTIONS ("1 16 64"), BENCH_ONLY=hello (baseline only),
# BACKEND=pg (the get and the trigger on PostgreSQL too: get-pg,
# trigger-pg, beside SQLite's), BENCH_PROCS2 (2; 0 or BENCH_PROCS: none),
# BENCH_PAIRS (6), BENCH_PAIR_DURATION (5s).
# Besides the table, a second flowcgi site with BENCH_PROCS2 processes and the
# first one take turns at the trigger at c=16, BENCH_PAIRS pairs of runs: the
# machine's speed drifts by tens of percent within minutes, and runs taken in
# turn see the same machine, so the median of the pairs' ratios says which
# process count is faster where two separate tables could not.
# One process by default: on the 2-core machine it is the fastest setting for
# both programs (wrk and lighttpd need the other core; a second flowcgi
# process adds page-cache refills and lock hand-offs), see README.
set -euo pipefail
cd "$(dirname "$0")/.."

PROG=${PROG:-$PWD/cgi-bin/flowcgi.fcgi}
PROCS=${BENCH_PROCS:-1}
DURATION=${BENCH_DURATION:-10s}
RUNS=${BENCH_RUNS:-3}
CONNS=${BENCH_CONNECTIONS:-1 16 64}
ONLY=${BENCH_ONLY:-}
BACKEND=${BACKEND:-sqlite}
PROCS2=${BENCH_PROCS2:-2}
PAIRS=${BENCH_PAIRS:-6}
PAIR_DURATION=${BENCH_PAIR_DURATION:-5s}
[ "$PROCS2" = "$PROCS" ] || [ -n "$ONLY" ] && PROCS2=0
OUT=bench/results/latest.md

command -v wrk >/dev/null || { echo "bench: wrk is missing (make deps)" >&2; exit 1; }
cc -O2 -Wall -Wextra -std=c11 -o bench/hello.fcgi bench/hello.c -lfcgi

tmp=$(mktemp -d /tmp/flowcgi-bench.XXXXXX)
# setup.py runs the servers until fd 3 closes (also when this script dies).
exec 3> >(exec python3 bench/setup.py --prog "$PROG" --hello bench/hello.fcgi \
	--procs "$PROCS" --procs2 "$PROCS2" --vars "$tmp/vars" $([ "$BACKEND" = pg ] && echo --pg))
SETUP_PID=$!
trap 'exec 3>&-; wait "$SETUP_PID" 2>/dev/null || true; rm -rf "$tmp"' EXIT

for _ in $(seq 600); do
	[ -e "$tmp/vars" ] && break
	kill -0 "$SETUP_PID" 2>/dev/null || { echo "bench: setup.py died" >&2; exit 1; }
	sleep 0.1
done
[ -e "$tmp/vars" ] || { echo "bench: setup.py timed out" >&2; exit 1; }
# shellcheck disable=SC1091
. "$tmp/vars"
[ -n "$HELLO_URL" ] || { echo "bench: the hello server did not start" >&2; exit 1; }
if [ -n "$SETUP_ERROR" ] && [ "$ONLY" != hello ]; then
	echo "bench: flowcgi setup failed, nothing to measure:" >&2
	echo "$SETUP_ERROR" >&2
	echo "(BENCH_ONLY=hello measures the baseline alone)" >&2
	exit 1
fi

cat > "$tmp/trigger.lua" <<'EOF'
wrk.method = "POST"
wrk.body = '{"indicator":7}'
wrk.headers["Content-Type"] = "application/json"
EOF

declare -A URL SCRIPT AUTH
TARGETS="hello hello-close"
URL[hello]=$HELLO_URL
URL[hello-close]=$HELLO_CLOSE_URL
if [ "$ONLY" != hello ]; then
	TARGETS="hello hello-close get trigger"
	URL[get]="$API/samples:get/$ROW"
	URL[trigger]="$API/samples:trigger/$ROW?triggerWorkflows=$KEY"
	SCRIPT[trigger]=$tmp/trigger.lua
	if [ -n "$API2" ]; then
		URL[trigger2]="$API2/samples:trigger/$ROW2?triggerWorkflows=$KEY2"
		SCRIPT[trigger2]=$tmp/trigger.lua
		AUTH[trigger2]=$TOKEN2
	fi
	if [ -n "$API_PG" ]; then
		TARGETS="$TARGETS get-pg trigger-pg"
		URL[get-pg]="$API_PG/samples:get/$ROW_PG"
		URL[trigger-pg]="$API_PG/samples:trigger/$ROW_PG?triggerWorkflows=$KEY_PG"
		SCRIPT[trigger-pg]=$tmp/trigger.lua
		AUTH[get-pg]=$TOKEN_PG
		AUTH[trigger-pg]=$TOKEN_PG
	fi
fi

# run_wrk TARGET CONNS DURATION -> "rps p50_ms p99_ms non2xx errors"
run_wrk() {
	local t=$1 c=$2 d=$3 th=2
	[ "$c" -lt 2 ] && th=1
	local args=(-t"$th" -c"$c" -d"$d" --latency -H "Authorization: Bearer ${AUTH[$t]:-${TOKEN:-none}}")
	[ -n "${SCRIPT[$t]:-}" ] && args+=(-s "${SCRIPT[$t]}")
	wrk "${args[@]}" "${URL[$t]}" | awk '
		function ms(v) {
			if (v ~ /us$/) return v / 1000; if (v ~ /ms$/) return v + 0
			if (v ~ /m$/) return v * 60000; if (v ~ /s$/) return v * 1000; return v
		}
		/Requests\/sec:/ { rps = $2 }
		$1 == "50%" { p50 = ms($2) }
		$1 == "99%" { p99 = ms($2) }
		/Non-2xx or 3xx responses:/ { bad = $5 }
		/Socket errors:/ { gsub(",", ""); err = $4 + $6 + $8 + $10 }
		END { printf "%.0f %.3f %.3f %d %d\n", rps, p50, p99, bad, err }'
}

echo "bench: warming up"
for t in $TARGETS ${API2:+trigger2}; do run_wrk "$t" 16 2s >/dev/null; done

: > "$tmp/results"
for c in $CONNS; do
	for r in $(seq "$RUNS"); do
		for t in $TARGETS; do
			line=$(run_wrk "$t" "$c" "$DURATION")
			echo "$t $c $line" >> "$tmp/results"
			printf 'bench: %-10s c=%-3s run %s: %s\n' "$t" "$c" "$r" "$line"
		done
	done
done

# The pairs: ABBA order, so that a drift within a pair favours neither.
: > "$tmp/pairs"
if [ -n "${API2:-}" ]; then
	for i in $(seq "$PAIRS"); do
		order="trigger trigger2"
		[ $((i % 2)) = 0 ] && order="trigger2 trigger"
		for t in $order; do
			line=$(run_wrk "$t" 16 "$PAIR_DURATION")
			echo "$i $t $line" >> "$tmp/pairs"
			printf 'bench: pair %s %-8s c=16: %s\n' "$i" "$t" "$line"
		done
	done
fi

# Median of the runs for each metric; ratio = req/s against hello at the same c.
median() { sort -g | awk '{ a[NR] = $1 } END { print (NR % 2) ? a[(NR + 1) / 2] : (a[NR / 2] + a[NR / 2 + 1]) / 2 }'; }
sum() { awk '{ s += $1 } END { print s + 0 }'; }
mkdir -p bench/results
{
	echo "# flowcgi benchmark"
	echo
	echo "$(date -u +%Y-%m-%dT%H:%M:%SZ), commit $(git rev-parse --short HEAD 2>/dev/null || echo '?'),"
	echo "$(nproc) CPUs ($(awk -F': ' '/model name/ { print $2; exit }' /proc/cpuinfo)),"
	echo "lighttpd $(lighttpd -v | awk '{ print $1 }' | cut -d/ -f2), $PROCS FastCGI processes per program,"
	echo "wrk -t2 (-t1 at c=1) -d$DURATION --latency, median of $RUNS runs; wrk runs on the same machine."
	echo
	echo "- hello: bench/hello.c, a FastCGI hello world as libfcgi ships it (the baseline)"
	echo "- hello-close: the same, ending each connection the way flowcgi does (plain close"
	echo "  after reading the input to its end, no wait for the server to close first)"
	[ "$ONLY" != hello ] && echo "- get: GET /api/samples:get/$ROW (signed in as root)" &&
		echo "- trigger: POST /api/samples:trigger/$ROW?triggerWorkflows=<key>, a sync workflow with one update node"
	[ -n "${API_PG:-}" ] && echo "- get-pg, trigger-pg: the same on PostgreSQL 15 (a scratch cluster on loopback, fsync off)"
	echo
	echo "| target | connections | req/s | p50 ms | p99 ms | vs hello | vs hello-close | non-2xx | socket errors |"
	echo "|---|---:|---:|---:|---:|---:|---:|---:|---:|"
	for c in $CONNS; do
		base=$(awk -v c="$c" '$1 == "hello" && $2 == c { print $3 }' "$tmp/results" | median)
		base2=$(awk -v c="$c" '$1 == "hello-close" && $2 == c { print $3 }' "$tmp/results" | median)
		for t in $TARGETS; do
			sel() { awk -v t="$t" -v c="$c" -v f="$1" '$1 == t && $2 == c { print $f }' "$tmp/results"; }
			rps=$(sel 3 | median); p50=$(sel 4 | median); p99=$(sel 5 | median)
			bad=$(sel 6 | sum)
			err=$(sel 7 | sum)
			ratio=$(awk -v a="$rps" -v b="$base" 'BEGIN { printf (b > 0) ? "%.2f" : "-", a / b }')
			ratio2=$(awk -v a="$rps" -v b="$base2" 'BEGIN { printf (b > 0) ? "%.2f" : "-", a / b }')
			printf '| %s | %s | %.0f | %.2f | %.2f | %s | %s | %s | %s |\n' \
				"$t" "$c" "$rps" "$p50" "$p99" "$ratio" "$ratio2" "$bad" "$err"
		done
	done
	if [ -s "$tmp/pairs" ]; then
		echo
		echo "## $PROCS and $PROCS2 FastCGI processes"
		echo
		echo "Two flowcgi sites, each on a database of its own, with $PROCS and $PROCS2 FastCGI"
		echo "processes, take turns at the trigger at c=16: $PAIRS pairs of $PAIR_DURATION runs"
		echo "(ABBA order), medians of the runs."
		echo
		echo "| processes | req/s | p50 ms | p99 ms | non-2xx | socket errors |"
		echo "|---:|---:|---:|---:|---:|---:|"
		for t in trigger trigger2; do
			sel() { awk -v t="$t" -v f="$1" '$2 == t { print $f }' "$tmp/pairs"; }
			n=$PROCS
			[ "$t" = trigger2 ] && n=$PROCS2
			printf '| %s | %.0f | %.2f | %.2f | %s | %s |\n' "$n" \
				"$(sel 3 | median)" "$(sel 4 | median)" "$(sel 5 | median)" \
				"$(sel 6 | sum)" "$(sel 7 | sum)"
		done
		ratios=$(awk '$2 == "trigger" { a[$1] = $3 } $2 == "trigger2" { b[$1] = $3 }
			END { for (i in a) if (a[i] > 0 && (i in b)) printf "%.3f\n", b[i] / a[i] }' \
			"$tmp/pairs" | sort -g)
		echo
		printf 'req/s, %s processes vs %s: %.2f, the median of the pairs'"'"' ratios (%.2f to %.2f)\n' \
			"$PROCS2" "$PROCS" "$(echo "$ratios" | median)" \
			"$(echo "$ratios" | head -1)" "$(echo "$ratios" | tail -1)"
	fi
} > "$OUT"
echo
cat "$OUT"
if cat "$tmp/results" "$tmp/pairs" |
	awk '$1 !~ /^hello/ && ($6 > 0) { found = 1 } END { exit !found }'; then
	echo "bench: WARNING: some flowcgi requests did not answer 2xx (see non-2xx)" >&2
fi
