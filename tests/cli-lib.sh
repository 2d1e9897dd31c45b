# Sourced by the shell tests of memtypectl (test-cli.sh, test-cli-online.sh):
# run memtypectl and assert on its exit status, stdout and stderr. Expects
# $ctl (memtypectl), $jget (tests/json-get), $tmp (a scratch directory) and
# the counters $checks and $failures.

fail() {
	echo "FAIL: $*"
	failures=$((failures + 1))
}

# run ARGS...: run memtypectl with stdin from /dev/null; output in $tmp/out,
# $tmp/err, status in $rc.
run() {
	rc=0
	"$ctl" "$@" </dev/null >"$tmp/out" 2>"$tmp/err" || rc=$?
	last="memtypectl $*"
}

expect_rc() {
	checks=$((checks + 1))
	if [[ $rc != "$1" ]]; then
		fail "$last: exit $rc, expected $1; stderr: $(head -c 400 "$tmp/err")"
		return 1
	fi
}

expect_out() {
	checks=$((checks + 1))
	grep -qE -- "$1" "$tmp/out" || fail "$last: stdout lacks /$1/: $(head -c 400 "$tmp/out")"
}

expect_err() {
	checks=$((checks + 1))
	grep -qE -- "$1" "$tmp/err" || fail "$last: stderr lacks /$1/: $(head -c 400 "$tmp/err")"
}

expect_no_out() {
	checks=$((checks + 1))
	[[ ! -s $tmp/out ]] || fail "$last: printed on stdout: $(head -c 200 "$tmp/out")"
}

# expect_json PATH VALUE: the JSON on stdout has VALUE at PATH (json-get).
expect_json() {
	local got
	checks=$((checks + 1))
	got=$("$jget" "$1" <"$tmp/out") || {
		fail "$last: no $1 in the JSON output: $(head -c 300 "$tmp/out")"
		return
	}
	[[ $got == "$2" ]] || fail "$last: $1 is '$got', expected '$2'"
}
