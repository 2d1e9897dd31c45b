#!/bin/bash
# CLI tests of memtypectl's online verbs and of its libvirt hook. Without a
# daemon: every online verb exits 7 and says so; the hook exits 0 in every
# phase, prints nothing, drains its stdin and keeps its deadline against a
# listener that never answers (tests/silent-listener). With memtyped built,
# against a real memtyped on a fixture host root: what each verb prints and
# its exit code, the hook's phases as the daemon records them, strict-mode
# refusal, and the access check for an unprivileged user. Run by `make
# check`; exit 77 skips.
set -u

T=${MT_TEST_DIR:?MT_TEST_DIR is not set (run through make check)}
B=${MT_BUILD_DIR:?MT_BUILD_DIR is not set (run through make check)}
ctl=$B/memtypectl
hookbin=$B/memtype-hook
jget=$B/tests/json-get
silent=$B/tests/silent-listener
daemon=$B/memtyped
root=$T/roots/amd-epyc-gpu
[[ -d $root ]] || root=$B/tests/roots/amd-epyc-gpu

for f in "$ctl" "$hookbin" "$jget" "$silent"; do
	if [[ ! -x $f ]]; then
		echo "SKIP: $f is not built"
		exit 77
	fi
done

tmp=$(mktemp -d "${TMPDIR:-/tmp}/test-cli-online.XXXXXX")
# Traversable, so that the unprivileged checks reach the socket.
chmod 755 "$tmp"
pids=()
cleanup() {
	local p
	for p in "${pids[@]}"; do
		kill "$p" 2>/dev/null && wait "$p" 2>/dev/null
	done
	rm -rf "$tmp"
}
trap cleanup EXIT
failures=0
checks=0
. "$T/cli-lib.sh"

# No daemon unless a check starts one; nothing from the caller's setup.
export MEMTYPE_SOCKET=$tmp/none.sock
# No memtype.ko here, whatever the machine has.
export MEMTYPE_DEVICE=$tmp/no-memtype-device
unset MEMTYPE_HOOK_TIMEOUT MEMTYPE_LIBVIRT_RUN_DIR

# hook VM PHASE SUB [XMLFILE]: the hook as libvirt runs it (qemu.d/50-memtype
# execs memtype-hook); with HOOK=ctl, as `memtypectl libvirt-hook`, which
# is the same code behind memtypectl's option parser.
hook() {
	local xml=${4:-/dev/null}
	rc=0
	if [[ ${HOOK:-} == ctl ]]; then
		"$ctl" libvirt-hook -- "$1" "$2" "$3" - <"$xml" >"$tmp/out" 2>"$tmp/err" || rc=$?
		last="memtypectl libvirt-hook -- $1 $2 $3 - <$xml"
	else
		"$hookbin" "$1" "$2" "$3" - <"$xml" >"$tmp/out" 2>"$tmp/err" || rc=$?
		last="memtype-hook $1 $2 $3 - <$xml"
	fi
}

# vm_field NAME KEY: KEY of VM NAME in `vms --json`, "absent" without it.
vm_field() {
	"$ctl" --json vms 2>/dev/null | "$jget" "name=$1/$2" 2>/dev/null || echo absent
}

expect_vm() {
	local got
	checks=$((checks + 1))
	got=$(vm_field "$1" "$2")
	[[ $got == "$3" ]] || fail "after $last: VM $1 has $2 '$got', expected '$3'"
}

# elapsed_ms CMD...: run CMD, put its wall time in $ms and status in $rc.
elapsed_ms() {
	local t0 t1
	t0=$(date +%s%N)
	rc=0
	"$@" || rc=$?
	t1=$(date +%s%N)
	ms=$(((t1 - t0) / 1000000))
}

# ----- without a daemon -----------------------------------------------------

online_verbs=("status" "vms" "plan debian12" "explain debian12" "apply debian12"
	"verify debian12" "monitor" "register $T/xml/plain.xml" "unregister debian12" "reload")
for v in "${online_verbs[@]}"; do
	# shellcheck disable=SC2086 # the verb and its argument
	run $v
	expect_rc 7 && expect_err "^memtypectl: memtyped is not running \(no socket at $tmp/none\.sock\)$" &&
		expect_no_out
done
# --socket wins over $MEMTYPE_SOCKET.
run --socket "$tmp/other.sock" status
expect_rc 7 && expect_err "no socket at $tmp/other\.sock"
# A socket file nobody listens on.
: >"$tmp/stale.sock"
run --socket "$tmp/stale.sock" vms
expect_rc 7 && expect_err "memtyped is not running \(nothing listens on $tmp/stale\.sock\)"
# Offline forms stay offline.
run plan --root "$root" --xml "$T/xml/plain.xml" --policy "$T/policy/default.json"
expect_rc 0 && expect_out '^Disable mask: '

# Usage errors come before any connection.
run apply
expect_rc 2 && expect_err "too few arguments for 'apply'"
run vms extra
expect_rc 2 && expect_err "too many arguments for 'vms'"
run vms --pid 1
expect_rc 2 && expect_err "option --pid does not apply to 'vms'"
run register "$T/xml/plain.xml" --pid 0
expect_rc 2 && expect_err "--pid: '0' is not a process id"
run register "$T/xml/plain.xml" --pid 12x
expect_rc 2 && expect_err "--pid: '12x' is not a process id"
run register "$tmp/no-such.xml"
expect_rc 3 && expect_err "no-such\.xml"
run plan debian12 --root "$root"
expect_rc 2 && expect_err 'go with --xml FILE'
run libvirt-hook debian12
expect_rc 2 && expect_err "too few arguments for 'libvirt-hook'"

# The hook fails open: exit 0 in every phase, nothing on stdout, and for a
# starting VM a line on stderr saying what happened.
for phase in prepare start started stopped release reconnect migrate restore attach frobnicate; do
	hook debian12 "$phase" begin "$T/xml/plain.xml"
	expect_rc 0 && expect_no_out
done
hook debian12 prepare begin "$T/xml/plain.xml"
expect_err "^memtype hook: prepare debian12: memtyped unavailable \(not running, no socket at $tmp/none\.sock\); VM starts with KVM's defaults$"
hook debian12 stopped end
expect_err "^memtype hook: stopped debian12: memtyped unavailable" && {
	checks=$((checks + 1))
	grep -q "KVM's defaults" "$tmp/err" && fail "$last: a stopped VM does not start with anything"
}
# Filters and ignored phases are silent and do not even ask the daemon.
for phase in migrate restore attach frobnicate; do
	hook debian12 "$phase" begin "$T/xml/plain.xml"
	checks=$((checks + 1))
	[[ ! -s $tmp/err ]] || fail "$last: spoke on stderr: $(head -c 200 "$tmp/err")"
done

# A 10 MiB stdin is drained whole: the writer sees no EPIPE or SIGPIPE.
rc=0
yes '<domain><name>x</name></domain>' | head -c $((10 << 20)) |
	"$ctl" libvirt-hook big prepare begin - >"$tmp/out" 2>"$tmp/err"
st=("${PIPESTATUS[@]}")
last="memtypectl libvirt-hook big prepare begin (10 MiB stdin)"
checks=$((checks + 1))
[[ ${st[1]} == 0 && ${st[2]} == 0 ]] ||
	fail "$last: pipeline status ${st[*]} (head must not get SIGPIPE, the hook must exit 0)"
# Binary garbage and an empty stdin are no reason to fail either.
head -c 100000 /dev/urandom >"$tmp/garbage"
hook debian12 prepare begin "$tmp/garbage"
expect_rc 0 && expect_no_out
hook debian12 start begin /dev/null
expect_rc 0 && expect_no_out

# A daemon that accepts and never answers: the hook gives up in time.
"$silent" "$tmp/silent.sock" &
pids+=($!)
for _ in $(seq 50); do
	[[ -S $tmp/silent.sock ]] && break
	sleep 0.1
done
elapsed_ms env MEMTYPE_SOCKET="$tmp/silent.sock" MEMTYPE_HOOK_TIMEOUT=300 \
	"$ctl" libvirt-hook debian12 prepare begin - <"$T/xml/plain.xml" >"$tmp/out" 2>"$tmp/err"
last="memtypectl libvirt-hook (silent daemon, 300 ms)"
expect_rc 0 && expect_no_out && expect_err 'memtyped unavailable \(no answer within 300 ms\)'
checks=$((checks + 1))
((ms >= 250 && ms < 2000)) || fail "$last: took $ms ms"
# The default deadline is 3 s, and reconnect keeps to it too.
elapsed_ms env MEMTYPE_SOCKET="$tmp/silent.sock" \
	"$ctl" libvirt-hook debian12 reconnect begin - <"$T/xml/plain.xml" >"$tmp/out" 2>"$tmp/err"
last="memtypectl libvirt-hook reconnect (silent daemon, default deadline)"
expect_rc 0 && expect_no_out && expect_err 'no answer within 3000 ms'
checks=$((checks + 1))
((ms >= 2900 && ms < 5000)) || fail "$last: took $ms ms"
# A bad $MEMTYPE_HOOK_TIMEOUT is reported and the default used.
elapsed_ms env MEMTYPE_SOCKET="$tmp/none.sock" MEMTYPE_HOOK_TIMEOUT=soon \
	"$ctl" libvirt-hook debian12 prepare begin - </dev/null >"$tmp/out" 2>"$tmp/err"
last="memtypectl libvirt-hook (MEMTYPE_HOOK_TIMEOUT=soon)"
expect_rc 0 && expect_err 'ignoring MEMTYPE_HOOK_TIMEOUT=soon'

# A strict VM whose hostdev the host lacks: a plan error.
sed -e "s|<address domain='0x0000' bus='0x01' slot='0x00' function='0x0'/>|<address domain='0x0000' bus='0x7e' slot='0x1f' function='0x7'/>|" \
	-e 's|<name>[^<]*</name>|<name>strict-guest</name>|' \
	-e 's|<uuid>[^<]*</uuid>|<uuid>5a0c3e2f-1111-4222-8333-944455556666</uuid>|' \
	"$T/xml/gpu-passthrough.xml" >"$tmp/strict.xml"

# ----- memtyped down, memtype.ko loaded: the hook plans offline -------------
# As root only (the module takes policies from CAP_SYS_ADMIN). The device
# is a regular file here, so the plan is made for real and its hand-over
# to the module fails the way a wrong device fails; the rig
# (tests/kmod) has the real module. memtypectl gets the fixture host and
# a policy through $MEMTYPECTL, a wrapper.
if ((EUID == 0)); then
	intel=$T/roots/intel-client
	[[ -d $intel ]] || intel=$B/tests/roots/intel-client
	: >"$tmp/fake-memtype"
	printf '{ "schema": "memtype.policy/1", "mode": "balanced" }\n' >"$tmp/offline.json"
	printf '{ "schema": "memtype.policy/1", "mode": "balanced", "strict": true }\n' \
		>"$tmp/offline-strict.json"
	for pol in offline offline-strict; do
		printf '#!/bin/sh\nexec %q --root %q --policy %q "$@"\n' "$ctl" "$intel" \
			"$tmp/$pol.json" >"$tmp/ctl-$pol"
		chmod +x "$tmp/ctl-$pol"
	done
	offline_hook() {
		rc=0
		MEMTYPE_DEVICE=$tmp/fake-memtype MEMTYPECTL=$tmp/ctl-$1 \
			"$hookbin" "$2" "$3" begin - <"$4" >"$tmp/out" 2>"$tmp/err" || rc=$?
		last="memtype-hook $2 $3 (memtyped down, $1 policy, $(basename "$4"))"
	}
	offline_hook offline venus prepare "$T/xml/venus-cmdline.xml"
	expect_rc 0 && expect_no_out &&
		expect_err '^memtype hook: prepare venus: memtyped is down and .*fake-memtype: GET_INFO: .*; IGNORE_GUEST_PAT stays enabled$'
	offline_hook offline plain start "$T/xml/plain.xml"
	expect_rc 0 && expect_err "memtyped is down; the offline plan keeps KVM's defaults"
	# A plan error refuses the start in strict mode, offline as online.
	offline_hook offline-strict strict-guest prepare "$tmp/strict.xml"
	expect_rc 1 && expect_no_out &&
		expect_err '^memtype hook: prepare strict-guest refused \(offline plan, memtyped is down\)' &&
		expect_err 'device-not-found'
	# Not before QEMU exists: no offline plan, the usual line.
	offline_hook offline-strict strict-guest started "$tmp/strict.xml"
	expect_rc 0 && expect_err 'memtyped unavailable'
	# No module: nothing to hand a plan to, so no offline plan either.
	rc=0
	MEMTYPE_DEVICE=$tmp/none MEMTYPECTL=$tmp/ctl-offline-strict \
		"$hookbin" strict-guest prepare begin - <"$tmp/strict.xml" >"$tmp/out" 2>"$tmp/err" || rc=$?
	last="memtype-hook strict-guest prepare (memtyped down, no module)"
	expect_rc 0 && expect_err 'memtyped unavailable \(not running'
else
	echo "NOTE: not root: skipping the hook's offline plan"
fi

# ----- with memtyped --------------------------------------------------------

if [[ ! -x $daemon ]]; then
	echo "NOTE: $daemon is not built: skipping the checks against a running memtyped"
	echo "$checks checks, $failures failed"
	((failures == 0))
	exit
fi

sock=$tmp/memtyped.sock
export MEMTYPE_SOCKET=$sock
mkdir "$tmp/policy.d" "$tmp/run"
chmod 755 "$tmp/run"
cat >"$tmp/policy.json" <<'EOF'
{
  "schema": "memtype.policy/1",
  "mode": "balanced",
  "vms": [ { "match": { "name": "strict-guest" }, "strict": true } ]
}
EOF
pol=(--policy "$tmp/policy.json")

"$daemon" --root "$root" --no-libvirt --no-udev --state "$tmp/state.json" --socket "$sock" \
	"${pol[@]}" --policy-dir "$tmp/policy.d" --log-level debug >"$tmp/memtyped.log" 2>&1 &
dpid=$!
pids+=("$dpid")
for _ in $(seq 100); do
	"$ctl" status >/dev/null 2>&1 && break
	kill -0 "$dpid" 2>/dev/null || break
	sleep 0.1
done
if ! "$ctl" status >/dev/null 2>&1; then
	fail "memtyped did not come up: $(tail -c 600 "$tmp/memtyped.log")"
	echo "$checks checks, $failures failed"
	exit 1
fi

run status
expect_rc 0 && expect_out '^Daemon: +memtyped ' && expect_out '^Host: +amd, kernel 6\.12' &&
	expect_out 'KVM quirks supported: 0x7ff \(LINT0_REENABLED, CD_NW_CLEARED' &&
	expect_out '^Policy: +balanced' && expect_out "files: .*policy\.json" &&
	expect_out '^libvirt: +disabled' && expect_out '^udev: +not monitoring' &&
	expect_out '^VMs: +0$' && expect_out "^State: +$tmp/state\.json" &&
	expect_out "^Applier: +memtype\.ko, unavailable: memtype\.ko is not loaded \(no $MEMTYPE_DEVICE\)" &&
	expect_out "^Module: +memtype\.ko is not loaded \(no $MEMTYPE_DEVICE\)"
run --json status
expect_rc 0 && expect_json libvirt/enabled false && expect_json host/kvm_supported_quirks 2047 &&
	expect_json vms 0
run vms
expect_rc 0 && expect_out '^No VMs recorded\.$'
run --json vms
expect_rc 0 && expect_json '#' 0

# Monitors, to be read at the end.
"$ctl" monitor >"$tmp/monitor.txt" 2>&1 &
pids+=($!)
"$ctl" --json monitor >"$tmp/monitor.json" 2>&1 &
pids+=($!)

# register / plan / explain / apply / verify / unregister
run register "$T/xml/plain.xml" --pid $$
expect_rc 0 && expect_out '^VM: +debian12 \(6f0a1c9e-3b7d-4e2a-9c41-8d5e2f7a1b30\)' &&
	expect_out '^Source: +registered' && expect_out "pid $$"
run register "$T/xml/plain.xml"
checks=$((checks + 1))
((rc == 0 || rc == 1)) || fail "$last: registering twice: exit $rc"
run vms
expect_rc 0 && expect_out '^NAME +STATE +APPLY +DISABLED-QUIRKS +NONCOHERENT +WARNINGS' &&
	expect_out '^debian12 '
expect_vm debian12 source registered
expect_vm debian12 pid $$

# plan NAME prints what the offline plan of the same XML, host and policy
# prints, byte for byte: one printer for both.
run plan debian12
expect_rc 0 && expect_out '^VM: +debian12' && expect_out '^Disable mask: 0x'
"$ctl" plan --root "$root" --xml "$T/xml/plain.xml" "${pol[@]}" >"$tmp/offline" 2>&1
checks=$((checks + 1))
diff -u "$tmp/offline" "$tmp/out" >"$tmp/diff" || fail "plan debian12 differs from the offline plan: $(head -c 600 "$tmp/diff")"
run --json plan debian12
expect_rc 0 && expect_json schema memtype.plan/1 && expect_json vm/name debian12
run explain debian12
expect_rc 0 && expect_out 'FACTS'
"$ctl" explain --root "$root" --xml "$T/xml/plain.xml" "${pol[@]}" >"$tmp/offline" 2>&1
checks=$((checks + 1))
diff -u "$tmp/offline" "$tmp/out" >"$tmp/diff" || fail "explain debian12 differs from the offline one: $(head -c 600 "$tmp/diff")"
run --json explain debian12
expect_rc 0 && expect_json schema memtype.plan/1
checks=$((checks + 1))
"$jget" explanation <"$tmp/out" | grep -q FACTS || fail "explain --json: no explanation"
run plan no-such-vm
expect_rc 1 && expect_err '^memtypectl: no VM named no-such-vm$' && expect_no_out

run apply debian12
expect_rc 0 && expect_out '^Apply: +(planned|module-unavailable)'
run --json apply debian12
expect_rc 0 && expect_json name debian12
run verify debian12
checks=$((checks + 1))
if ((rc == 0)); then
	grep -qE '^Drift: +(no|unknown)' "$tmp/out" || fail "$last: no drift line: $(cat "$tmp/out")"
else
	fail "$last: exit $rc with no module to drift from: $(cat "$tmp/err")"
fi
run --json verify debian12
expect_rc 0 && expect_json vm/name debian12
run verify no-such-vm
expect_rc 1 && expect_err 'no VM named no-such-vm'

printf '<domain type="kvm">\n  <name>broken\n' >"$tmp/bad.xml"
run register "$tmp/bad.xml"
expect_rc 3 && expect_err '^memtypectl: invalid domain XML: '
run register "$tmp/garbage"
expect_rc 3 && expect_err 'garbage contains a NUL byte'
run --json register "$tmp/strict.xml"
expect_rc 0 && expect_json name strict-guest && expect_json 'errors/0' device-not-found
run plan strict-guest
expect_rc 4 && expect_out 'device-not-found'
run unregister strict-guest
expect_rc 0 && expect_no_out

run unregister debian12
expect_rc 0
run unregister debian12
expect_rc 1 && expect_err 'no VM named debian12'
expect_vm debian12 name absent

# reload: a good policy is taken, a bad one is refused and the old one stays.
sed -i 's/"balanced"/"performance"/' "$tmp/policy.json"
run reload
expect_rc 0 && expect_out '^Policy reloaded: mode performance'
run --json status
expect_json policy/mode performance
echo '{ "mode": "frobnicate" }' >"$tmp/policy.json.bad"
cp "$tmp/policy.json" "$tmp/policy.json.good"
cp "$tmp/policy.json.bad" "$tmp/policy.json"
run reload
expect_rc 3 && expect_err 'the policy could not be loaded, the previous one stays in force'
run status
expect_out '^Policy: +performance' && expect_out 'last reload failed: '
sed 's/"performance"/"balanced"/' "$tmp/policy.json.good" >"$tmp/policy.json"
run --json reload
expect_rc 0 && expect_json mode balanced

# The hook, phase by phase, as libvirt runs it.
hook debian12 prepare begin "$T/xml/plain.xml"
expect_rc 0 && expect_no_out
expect_vm debian12 state prepared
expect_vm debian12 source libvirt
hook debian12 start begin "$T/xml/plain.xml"
expect_rc 0 && expect_no_out
expect_vm debian12 state starting
echo 4242 >"$tmp/run/debian12.pid"
MEMTYPE_LIBVIRT_RUN_DIR=$tmp/run hook debian12 started begin "$T/xml/plain.xml"
expect_rc 0 && expect_no_out
expect_vm debian12 state running
expect_vm debian12 pid 4242
expect_vm debian12 last_phase started
for phase in migrate restore; do
	hook debian12 "$phase" begin "$T/xml/plain.xml"
	expect_rc 0 && expect_no_out
done
hook debian12 stopped end
expect_rc 0 && expect_no_out
expect_vm debian12 state stopped
hook debian12 release end
expect_rc 0 && expect_no_out
expect_vm debian12 name absent

# The same through memtypectl, and a domain name that looks like an option
# (libvirt allows it): memtype-hook takes libvirt's arguments as they are.
HOOK=ctl hook debian12 prepare begin "$T/xml/plain.xml"
expect_rc 0 && expect_no_out
expect_vm debian12 state prepared
HOOK=ctl hook debian12 release end
expect_rc 0 && expect_vm debian12 name absent
sed 's|<name>debian12</name>|<name>-dash</name>|' "$T/xml/plain.xml" >"$tmp/dash.xml"
hook -dash prepare begin "$tmp/dash.xml"
expect_rc 0 && expect_no_out
expect_vm -dash state prepared
hook -dash release end
expect_rc 0 && expect_vm -dash name absent
# A large domain (2 MiB, a comment pads it) is read and recorded: memtyped
# takes messages that large from root, whom the hook runs as. Beyond what
# the parser takes (4 MiB) the hook says why it fails open.
if ((EUID == 0)); then
	{
		sed -n '1,2p' "$tmp/dash.xml" | sed 's|<name>-dash</name>|<name>big</name>|'
		printf '<!-- '
		head -c $((2 << 20)) /dev/zero | tr '\0' 'x'
		printf ' -->\n'
		sed -n '3,$p' "$tmp/dash.xml"
	} >"$tmp/big.xml"
	hook big prepare begin "$tmp/big.xml"
	expect_rc 0 && expect_no_out
	expect_vm big state prepared
	hook big release end
	head -c $((5 << 20)) /dev/zero | tr '\0' 'x' >"$tmp/huge.xml"
	hook huge prepare begin "$tmp/huge.xml"
	expect_rc 0 && expect_no_out && expect_err 'domain XML not read \(larger than 4 MiB'
fi
rc=0
"$hookbin" onlyname >"$tmp/out" 2>"$tmp/err" </dev/null || rc=$?
last="memtype-hook onlyname"
expect_rc 2 && expect_err '^usage: memtype-hook NAME PHASE'

# Strict mode: a plan error refuses the start (exit 1, why on stderr), but
# never a reconnect.
hook strict-guest prepare begin "$tmp/strict.xml"
expect_rc 1 && expect_no_out && expect_err '^memtype hook: prepare strict-guest refused: ' &&
	expect_err 'device-not-found'
hook strict-guest reconnect begin "$tmp/strict.xml"
expect_rc 0 && expect_no_out
hook strict-guest release end
expect_rc 0

# Read methods for everyone, changes for root and the memtype group only.
if ((EUID == 0)) && command -v setpriv >/dev/null &&
	setpriv --reuid=65534 --regid=65534 --clear-groups test -x "$ctl" 2>/dev/null; then
	nobody=(setpriv --reuid=65534 --regid=65534 --clear-groups)
	rc=0
	"${nobody[@]}" "$ctl" vms >"$tmp/out" 2>"$tmp/err" || rc=$?
	last="memtypectl vms (as nobody)"
	expect_rc 0
	rc=0
	"${nobody[@]}" "$ctl" reload >"$tmp/out" 2>"$tmp/err" || rc=$?
	last="memtypectl reload (as nobody)"
	expect_rc 1 && expect_err '^memtypectl: permission denied: Reload needs root or the memtype group$'
	rc=0
	"${nobody[@]}" "$ctl" libvirt-hook debian12 prepare begin - <"$T/xml/plain.xml" \
		>"$tmp/out" 2>"$tmp/err" || rc=$?
	last="memtypectl libvirt-hook prepare (as nobody)"
	expect_rc 0 && expect_no_out && expect_err 'permission denied'
else
	echo "NOTE: not root or no setpriv: skipping the unprivileged checks"
fi

# The monitors saw the registrations.
for _ in $(seq 50); do
	grep -q strict-guest "$tmp/monitor.txt" && grep -q strict-guest "$tmp/monitor.json" && break
	sleep 0.1
done
checks=$((checks + 1))
grep -qE '^[0-9]{4}-[0-9]{2}-[0-9]{2} [0-9:.]+ vm [a-z-]+ debian12: ' "$tmp/monitor.txt" ||
	fail "monitor printed no event of debian12: $(head -c 400 "$tmp/monitor.txt")"
checks=$((checks + 1))
n_json=0
while IFS= read -r line; do
	"$jget" subject <<<"$line" >/dev/null || fail "monitor --json line is not an event: $line"
	n_json=$((n_json + 1))
done <"$tmp/monitor.json"
((n_json > 0)) || fail "monitor --json printed nothing"

# memtyped going away ends the monitors; then the verbs say it is gone.
kill "$dpid"
wait "$dpid" 2>/dev/null
for _ in $(seq 50); do
	jobs -r | grep -q monitor || break
	sleep 0.1
done
checks=$((checks + 1))
grep -q 'memtyped closed the connection' "$tmp/monitor.txt" ||
	fail "monitor did not say that memtyped went away: $(tail -c 300 "$tmp/monitor.txt")"
run vms
expect_rc 7 && expect_err 'memtyped is not running'
hook debian12 prepare begin "$T/xml/plain.xml"
expect_rc 0 && expect_no_out

checks=$((checks + 1))
if grep -qE 'Sanitizer|runtime error' "$tmp/memtyped.log"; then
	fail "memtyped: $(grep -m3 -E 'Sanitizer|runtime error' "$tmp/memtyped.log")"
fi

echo "$checks checks, $failures failed"
((failures == 0))
