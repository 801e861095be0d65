#!/bin/sh
# Run one libFuzzer target for a number of seconds over its corpus.
#   tests/fuzz/run.sh build-fuzz/fuzz/<target> SECONDS [extra libFuzzer flags]
# The committed corpus tests/fuzz/corpus/<target> is only read; new inputs
# go to build-fuzz/scratch/<target>, crashes, leaks, timeouts and OOMs to
# build-fuzz/artifacts/<target>/.  The target's options (-max_len, ...)
# are in tests/fuzz/<target>.options, its dictionary in <target>.dict.
# Prints one summary line: target, seconds, executions, and the verdict;
# exits non-zero when libFuzzer found something.
set -u
bin=$1
secs=$2
shift 2
t=$(basename "$bin")
here=$(dirname "$0")
top=$(dirname "$(dirname "$bin")")
scratch=$top/scratch/$t
art=$top/artifacts/$t
log=$top/logs/$t.log
mkdir -p "$scratch" "$art" "$top/logs" "$here/corpus/$t"
opts=""
[ -f "$here/$t.options" ] && opts=$(grep -v '^#' "$here/$t.options")
[ -f "$here/$t.dict" ] && opts="$opts -dict=$here/$t.dict"
start=$(date +%s)
# shellcheck disable=SC2086
ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1} \
UBSAN_OPTIONS=${UBSAN_OPTIONS:-halt_on_error=1:print_stacktrace=1} \
"$bin" -max_total_time="$secs" -timeout=10 -rss_limit_mb=2048 \
	-print_final_stats=1 -artifact_prefix="$art/" $opts "$@" \
	"$scratch" "$here/corpus/$t" >"$log" 2>&1
rc=$?
end=$(date +%s)
runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
if [ $rc -eq 0 ]; then
	printf '%-22s %5ss %12s runs  ok\n' "$t" $((end - start)) "${runs:-?}"
	exit 0
fi
printf '%-22s %5ss %12s runs  FAILED (exit %s), log %s\n' "$t" \
	$((end - start)) "${runs:-?}" "$rc" "$log"
grep -E 'ERROR|SUMMARY|fuzz check failed|Test unit written|^artifact_prefix' "$log" | head -20
exit 1
