#!/bin/bash
# Tests of memtyped as a process: start the real daemon on a fixture host
# root (tests/roots/intel-client) with a policy from tests/policy, on
# temporary state and socket paths, without libvirt and udev, and drive it
# through its varlink socket with tests/varlink-call: the introspection
# methods, every Hook phase with the domain XML of tests/xml, strict
# refusals, registration, bad input, policy reloads by SIGHUP and Reload,
# pending-plan expiry, access control, Monitor, kill -9 and a corrupt state
# file. Run by `make check`; exit 77 skips.
set -u

T=${MT_TEST_DIR:?MT_TEST_DIR is not set (run through make check)}
B=${MT_BUILD_DIR:?MT_BUILD_DIR is not set (run through make check)}
daemon=$B/memtyped
call=$B/tests/varlink-call
jget=$B/tests/json-get
ctl=$B/memtypectl
root=$T/roots/intel-client
[[ -d $root ]] || root=$B/tests/roots/intel-client
M=io.memtype.Manager

for f in "$daemon" "$call" "$jget"; do
	if [[ ! -x $f ]]; then
		echo "SKIP: $f is not built"
		exit 77
	fi
done
if [[ ! -d $root ]]; then
	echo "SKIP: fixture root $root is missing"
	exit 77
fi

tmp=$(mktemp -d "${TMPDIR:-/tmp}/test-daemon.XXXXXX")
# No memtype.ko here, whatever the machine has: the module applier says so.
export MEMTYPE_DEVICE=$tmp/no-memtype-device
# Traversable, so that an unprivileged client reaches the socket.
chmod 755 "$tmp"
sock=$tmp/run/io.memtype.Manager
state=$tmp/lib/state.json
policy=$tmp/memtype.json
mkdir -p "$tmp/policy.d"
cp "$T/policy/default.json" "$policy"
daemon_pid=
monitor_pid=
libvirt_args=(--no-libvirt)

cleanup() {
	[[ -n $monitor_pid ]] && kill "$monitor_pid" 2>/dev/null
	[[ -n $daemon_pid ]] && kill -KILL "$daemon_pid" 2>/dev/null
	wait 2>/dev/null
	rm -rf "$tmp"
}
trap cleanup EXIT

failures=0
checks=0

fail() {
	echo "FAIL: $*"
	failures=$((failures + 1))
}

# start_daemon [ARGS...]: start memtyped and wait until it answers.
start_daemon() {
	"$daemon" --root "$root" --policy "$policy" --policy-dir "$tmp/policy.d" \
		--state "$state" --socket "$sock" "${libvirt_args[@]}" --no-udev "$@" \
		>>"$tmp/daemon.log" 2>&1 &
	daemon_pid=$!
	for _ in $(seq 100); do
		"$call" --timeout 200 "$sock" org.varlink.service.GetInfo >/dev/null 2>&1 && return 0
		kill -0 "$daemon_pid" 2>/dev/null || break
		sleep 0.05
	done
	echo "memtyped did not start; its log:"
	cat "$tmp/daemon.log"
	exit 1
}

# stop_daemon [SIGNAL]: stop it and wait; its exit status in $daemon_rc.
stop_daemon() {
	kill "-${1:-TERM}" "$daemon_pid"
	daemon_rc=0
	{ wait "$daemon_pid"; } 2>/dev/null || daemon_rc=$?
	daemon_pid=
}

# v METHOD [JSON] [varlink-call options...]: call the daemon; the reply in
# $tmp/out, exit status in $rc.
v() {
	local method=$1 params=${2:-"{}"}
	shift
	[[ $# -gt 0 ]] && shift
	rc=0
	"$call" "$@" "$sock" "$method" "$params" >"$tmp/out" 2>"$tmp/err" || rc=$?
	last="$method $params"
}

# hook NAME PHASE SUBPHASE [XML-FILE] [PID]
hook() {
	local params="{\"name\":\"$1\",\"phase\":\"$2\",\"subphase\":\"$3\"${5:+,\"pid\":$5}}"

	if [[ -n ${4:-} ]]; then
		v "$M.Hook" "$params" --string "xml=$4"
	else
		v "$M.Hook" "$params"
	fi
}

get() {
	"$jget" "$1" <"$tmp/out"
}

expect_ok() {
	checks=$((checks + 1))
	if [[ $rc != 0 ]]; then
		fail "$last: exit $rc: $(head -c 400 "$tmp/out") $(head -c 200 "$tmp/err")"
		return 1
	fi
}

# expect_error NAME: the call failed with the varlink error NAME.
expect_error() {
	checks=$((checks + 1))
	if [[ $rc != 1 ]] || [[ $(get error) != "$1" ]]; then
		fail "$last: expected error $1, got exit $rc: $(head -c 400 "$tmp/out")"
		return 1
	fi
}

# expect_json PATH VALUE
expect_json() {
	local got
	checks=$((checks + 1))
	got=$(get "$1") || {
		fail "$last: no $1 in $(head -c 400 "$tmp/out")"
		return 1
	}
	[[ $got == "$2" ]] || fail "$last: $1 is '$got', expected '$2'"
}

# expect_null PATH: the member at PATH is JSON null (json-get finds no
# value there, but the key is present).
expect_null() {
	checks=$((checks + 1))
	if get "$1" >/dev/null || ! grep -q "\"${1##*/}\":null" "$tmp/out"; then
		fail "$last: $1 is not null in $(head -c 400 "$tmp/out")"
	fi
}

# expect_match PATH REGEX
expect_match() {
	local got
	checks=$((checks + 1))
	got=$(get "$1") || {
		fail "$last: no $1 in $(head -c 400 "$tmp/out")"
		return 1
	}
	[[ $got =~ $2 ]] || fail "$last: $1 is '$got', not matching /$2/"
}

check() {
	checks=$((checks + 1))
	"$@" || fail "check failed: $*"
}

# xml_as FILE NAME UUID: FILE's domain XML renamed, in $tmp/NAME.xml.
xml_as() {
	sed -e "s|<name>[^<]*</name>|<name>$2</name>|" -e "s|<uuid>[^<]*</uuid>|<uuid>$3</uuid>|" \
		"$1" >"$tmp/$2.xml"
	echo "$tmp/$2.xml"
}

# The offline planner (memtypectl) as the oracle for what the daemon plans.
offline_mask() {
	"$ctl" --json plan --root "$root" --policy "$policy" --xml "$1" | "$jget" disable_quirks_mask
}

# start_monitor COUNT: a Monitor client in the background that exits after
# COUNT events (the first is "subscribed"), into $tmp/monitor.
start_monitor() {
	"$call" --more --count "$1" --timeout 10000 "$sock" "$M.Monitor" >"$tmp/monitor" 2>&1 &
	monitor_pid=$!
	for _ in $(seq 100); do
		[[ -s $tmp/monitor ]] && break
		sleep 0.05
	done
	check grep -q '"action":"subscribed"' "$tmp/monitor"
}

start_daemon

# ----- introspection -------------------------------------------------------
v org.varlink.service.GetInfo
expect_ok && expect_json parameters/product memtyped
expect_json 'parameters/interfaces/#' 2
expect_json parameters/interfaces/1 "$M"

rc=0
"$call" --get description "$sock" org.varlink.service.GetInterfaceDescription \
	"{\"interface\":\"$M\"}" >"$tmp/idl" || rc=$?
check test "$rc" = 0
check cmp -s "$tmp/idl" "$T/../daemon/io.memtype.Manager.varlink"

v "$M.GetStatus"
expect_ok && expect_match parameters/version '^[0-9]+\.[0-9]+'
expect_match parameters/started_usec '^[0-9]{16}$'
expect_json parameters/host/cpu_vendor intel
expect_json parameters/host/kvm true
expect_json parameters/host/partial false
expect_json 'parameters/host/partial_reasons/#' 0
expect_match parameters/host/inventoried_usec '^[0-9]{16}$'
expect_json parameters/policy/mode balanced
expect_json parameters/policy/strict false
expect_json parameters/policy/files/0 "$policy"
expect_null parameters/policy/last_error
expect_json parameters/libvirt/enabled false
expect_json parameters/libvirt/connected false
expect_json parameters/libvirt/uri qemu:///system
expect_json parameters/udev/monitoring false
expect_match parameters/udev/reason 'no-udev'
expect_json parameters/applier/name memtype.ko
expect_json parameters/applier/available false
expect_json parameters/applier/module/loaded false
expect_json parameters/applier/module/device "$MEMTYPE_DEVICE"
expect_json parameters/applier/reason "memtype.ko is not loaded (no $MEMTYPE_DEVICE)"
expect_json parameters/vms 0
expect_json parameters/state_file "$state"
functions=$(get parameters/host/functions)

v "$M.ListDevices"
expect_ok && expect_json 'parameters/host/devices/#' "$functions"
check test "$functions" -gt 0

v "$M.NoSuchMethod"
expect_error org.varlink.service.MethodNotFound

# ----- Monitor: a subscriber sees what other clients change -----------------
start_monitor 4

# ----- a libvirt VM through every hook phase --------------------------------
# venus-cmdline.xml: hostmem mapped into the guest, so on Intel the
# balanced policy disables IGNORE_GUEST_PAT (bit 9) for it.
plain=$T/xml/venus-cmdline.xml
name=$(sed -n 's|.*<name>\(.*\)</name>.*|\1|p' "$plain" | head -1)
uuid=$(sed -n 's|.*<uuid>\(.*\)</uuid>.*|\1|p' "$plain" | head -1)

v "$M.Plan" '{}' --string "xml=$plain"
expect_ok && expect_json parameters/plan/schema memtype.plan/1
mask=$(get parameters/plan/disable_quirks_mask)
if [[ -x $ctl ]]; then
	check test "$(offline_mask "$plain")" = "$mask"
fi
check test "$mask" = 0x200

hook "$name" prepare begin "$plain"
expect_ok && expect_json parameters/action planned
expect_json parameters/vm/state prepared
expect_json parameters/vm/source libvirt
expect_json parameters/vm/uuid "$uuid"
expect_json parameters/vm/disable_quirks_mask "$(printf %d "$mask")"
expect_json parameters/vm/last_phase prepare
expect_json parameters/vm/apply module-unavailable

hook "$name" start begin "$plain"
expect_ok && expect_json parameters/action replanned
expect_json parameters/vm/state starting

hook "$name" started begin "$plain" $$
expect_ok && expect_json parameters/action recorded-running
expect_json parameters/vm/state running
expect_json parameters/vm/pid $$

v "$M.ListVMs" '{"full":true}'
expect_ok && expect_json 'parameters/vms/#' 1
expect_json "parameters/vms/name=$name/plan/schema" memtype.plan/1
expect_json "parameters/vms/name=$name/plan/disable_quirks_mask" "$mask"
v "$M.ListVMs"
expect_ok && check test "$(get 'parameters/vms/0/plan')" = ""

v "$M.Verify" "{\"name\":\"$name\"}"
expect_ok && expect_null parameters/drift
expect_match parameters/details/0 'memtype.ko is not loaded'
expect_json parameters/vm/name "$name"

# The stream got the prepare, start and started changes.
wait "$monitor_pid"
check test $? = 0
monitor_pid=
check grep -q "\"action\":\"planned\",\"vm\":\"$name\"" "$tmp/monitor"
check grep -q "\"action\":\"recorded-running\",\"vm\":\"$name\"" "$tmp/monitor"

hook "$name" stopped end "$plain"
expect_ok && expect_json parameters/action stopped
expect_json parameters/vm/state stopped
expect_null parameters/vm/pid
hook "$name" release end "$plain"
expect_ok && expect_json parameters/action released
v "$M.ListVMs"
expect_ok && expect_json 'parameters/vms/#' 0
hook "$name" release end
expect_ok && expect_json parameters/action ignored

# migrate/restore are XML filters and attach is not ours: nothing recorded.
for phase in "migrate begin" "restore begin" "attach begin" "frobnicate begin"; do
	# shellcheck disable=SC2086 # phase and sub-phase
	hook "$name" $phase "$plain"
	expect_ok && expect_json parameters/action ignored
done
v "$M.GetStatus"
expect_json parameters/vms 0

# A re-plan never re-enables a quirk: prepare the venus VM, then "start" it
# with a plain VGA display, whose plan keeps IGNORE_GUEST_PAT.
vga_same=$(xml_as "$T/xml/vga.xml" "$name" "$uuid")
hook "$name" prepare begin "$plain"
expect_ok
hook "$name" start begin "$vga_same"
expect_ok && expect_json parameters/vm/disable_quirks_mask "$(printf %d "$mask")"
expect_match parameters/vm/apply_reason 'kept the earlier plan: .*re-enable.*IGNORE_GUEST_PAT'
hook "$name" release end
expect_ok && expect_json parameters/action released

# ----- bad input --------------------------------------------------------------
v "$M.Plan" '{}' --string "xml=$T/xml/bad/truncated.xml"
expect_error "$M.InvalidXML" && expect_match parameters/reason 'line [0-9]+'
v "$M.Plan" '{}'
expect_error org.varlink.service.InvalidParameter
v "$M.Plan" '{"name":"x","xml":"<domain/>"}'
expect_error org.varlink.service.InvalidParameter
v "$M.Plan" '{"name":"no-such-vm"}'
expect_error "$M.NoSuchVM" && expect_json parameters/name no-such-vm
v "$M.Explain" '{"name":"no-such-vm"}'
expect_error "$M.NoSuchVM"
hook "$name" prepare begin
expect_error "$M.InvalidXML" && expect_match parameters/reason 'without the domain XML'
hook other-name prepare begin "$plain"
expect_error "$M.InvalidXML" && expect_match parameters/reason "is of domain '$name'"
v "$M.Hook" '{"name":"x"}'
expect_error org.varlink.service.InvalidParameter && expect_json parameters/parameter phase
v "$M.Hook" '{"name":"x","phase":"started","pid":-5}'
expect_error org.varlink.service.InvalidParameter && expect_json parameters/parameter pid
v "$M.Verify" '{"name":"no-such-vm"}'
expect_error "$M.NoSuchVM"
v "$M.Apply" '{"name":"no-such-vm"}'
expect_error "$M.NoSuchVM"
v "$M.Monitor"
expect_error org.varlink.service.ExpectedMore

# ----- Register, Unregister, Plan/Explain/Apply by name -------------------------
vga=$T/xml/vga.xml
vga_name=$(sed -n 's|.*<name>\(.*\)</name>.*|\1|p' "$vga" | head -1)
v "$M.Register" "{\"pid\":$$}" --string "xml=$vga"
expect_ok && expect_json parameters/vm/source registered
expect_json parameters/vm/state running
expect_json parameters/vm/pid $$
vga_mask=$(get parameters/vm/disable_quirks_mask)
v "$M.Plan" "{\"name\":\"$vga_name\"}"
expect_ok && expect_json parameters/plan/vm/name "$vga_name"
v "$M.Explain" "{\"name\":\"$vga_name\"}"
expect_ok && expect_match parameters/text "$vga_name"
expect_json parameters/plan/schema memtype.plan/1
v "$M.Apply" "{\"name\":\"$vga_name\"}"
expect_ok && expect_json parameters/vm/disable_quirks_mask "$vga_mask"
# A libvirt hook for a name a VMM registered is refused.
vga_hook=$(xml_as "$plain" "$vga_name" "$uuid")
hook "$vga_name" prepare begin "$vga_hook"
expect_error "$M.Failed" && expect_match parameters/reason 'registered'
v "$M.Unregister" "{\"name\":\"$vga_name\"}"
expect_ok
v "$M.Unregister" "{\"name\":\"$vga_name\"}"
expect_error "$M.NoSuchVM"
v "$M.Register" '{}' --string "xml=$vga"
expect_ok && expect_json parameters/vm/state prepared
hook "$name" prepare begin "$plain"
v "$M.Unregister" "{\"name\":\"$name\"}"
expect_error "$M.Failed" && expect_match parameters/reason 'managed by libvirt'
v "$M.Plan" "{\"name\":\"$name\"}"
expect_error "$M.LibvirtUnavailable" && expect_json parameters/uri qemu:///system

# ----- access: reading is open, changing needs root or the memtype group --------
if [[ $(id -u) == 0 ]] && command -v setpriv >/dev/null; then
	rc=0
	setpriv --reuid=65534 --regid=65534 --clear-groups "$call" "$sock" "$M.GetStatus" \
		>"$tmp/out" 2>&1 || rc=$?
	last="GetStatus as nobody"
	expect_ok
	rc=0
	setpriv --reuid=65534 --regid=65534 --clear-groups "$call" "$sock" "$M.Unregister" \
		"{\"name\":\"$vga_name\"}" >"$tmp/out" 2>&1 || rc=$?
	last="Unregister as nobody"
	expect_error org.varlink.service.PermissionDenied
fi

# The registered VM starts: its VMM registers it again, with QEMU's pid.
v "$M.Register" "{\"pid\":$$}" --string "xml=$vga"
expect_ok && expect_json parameters/vm/state running
expect_json parameters/vm/disable_quirks_mask 0

# ----- policy: a broken one is reported and the last good one stays -----------
echo '{ "schema": "memtype.policy/1", "mode": "turbo" }' >"$policy"
kill -HUP "$daemon_pid"
for _ in $(seq 100); do
	v "$M.GetStatus"
	get parameters/policy/last_error >/dev/null && break
	sleep 0.05
done
expect_match parameters/policy/last_error "memtype\.json:1"
expect_json parameters/policy/mode balanced
v "$M.Reload"
expect_error "$M.PolicyInvalid" && expect_match parameters/reason "memtype\.json:1.*turbo"
cp "$T/policy/performance.json" "$policy"
kill -HUP "$daemon_pid"
for _ in $(seq 100); do
	v "$M.GetStatus"
	[[ $(get parameters/policy/mode) == performance ]] && break
	sleep 0.05
done
expect_json parameters/policy/mode performance
expect_json parameters/policy/strict true
expect_null parameters/policy/last_error
v "$M.Reload"
expect_ok && expect_json parameters/policy/mode performance
# The new policy re-planned the running VM: performance disables
# FIX_HYPERCALL_INSN (bit 5).
v "$M.ListVMs"
expect_json "parameters/vms/name=$vga_name/disable_quirks_mask" 32
expect_json "parameters/vms/name=$vga_name/apply" module-unavailable

# ----- strict: a plan with errors refuses the start, never a reconnect --------
snp=$T/xml/sev-snp.xml
snp_name=$(sed -n 's|.*<name>\(.*\)</name>.*|\1|p' "$snp" | head -1)
hook "$snp_name" prepare begin "$snp"
expect_error "$M.PlanRefused" && expect_json parameters/name "$snp_name"
expect_json parameters/errors/0 launch-security-unsupported
expect_match parameters/message "refuses to start $snp_name"
hook "$snp_name" start begin "$snp"
expect_error "$M.PlanRefused"
# A VM its own VMM starts is recorded with the errors for that VMM to see.
snp_reg=$(xml_as "$snp" snp-registered 5f1e8d2c-0a4b-4c3d-9e8f-7a6b5c4d3e2f)
v "$M.Register" '{}' --string "xml=$snp_reg"
expect_ok && expect_json parameters/vm/errors/0 launch-security-unsupported
v "$M.Unregister" '{"name":"snp-registered"}'
expect_ok
hook "$snp_name" reconnect begin "$snp" $$
expect_ok && expect_json parameters/action reconciled
expect_json parameters/vm/state running
expect_json parameters/vm/errors/0 launch-security-unsupported

# ----- Monitor subscribers are bounded ---------------------------------------------
subscribers=()
for i in $(seq 64); do
	"$call" --more --timeout 20000 "$sock" "$M.Monitor" >"$tmp/subscriber.$i" 2>&1 &
	subscribers+=($!)
done
# All 64 in before the 65th asks (else it could take the slot of one).
for _ in $(seq 200); do
	[[ $(cat "$tmp"/subscriber.* | grep -c '"subscribed"') == 64 ]] && break
	sleep 0.05
done
v "$M.Monitor" '{}' --more --count 1
expect_error "$M.LimitReached" && expect_json parameters/limit 64
kill "${subscribers[@]}" 2>/dev/null
{ wait "${subscribers[@]}"; } 2>/dev/null
# Their slots come free as memtyped sees them hang up.
for _ in $(seq 100); do
	v "$M.Monitor" '{}' --more --count 1
	[[ $rc == 0 ]] && break
	sleep 0.05
done
expect_ok && expect_json parameters/event/action subscribed

# ----- kill -9 and restart: nothing recorded is lost -----------------------------
v "$M.ListVMs"
before=$("$jget" 'parameters/vms/*/name' <"$tmp/out" | sort)
stop_daemon KILL
start_daemon
v "$M.ListVMs"
expect_ok
check test "$("$jget" 'parameters/vms/*/name' <"$tmp/out" | sort)" = "$before"
expect_json "parameters/vms/name=$snp_name/state" running
expect_json "parameters/vms/name=$vga_name/source" registered

# SIGTERM ends it cleanly.
stop_daemon TERM
check test "$daemon_rc" = 0

# ----- pending plans expire ------------------------------------------------------
# (and so do records of VMs that stopped without a release hook)
start_daemon --pending-ttl 1
start_monitor 5
hook "$name" prepare begin "$plain"
expect_ok && expect_json parameters/vm/state prepared
hook "$snp_name" stopped end
expect_ok && expect_json parameters/vm/state stopped
# The timer may fire up to a second late (its accuracy).
for _ in $(seq 100); do
	sleep 0.1
	v "$M.ListVMs"
	[[ $(get 'parameters/vms/#') == 1 ]] && break
done
expect_ok && check test "$("$jget" "parameters/vms/name=$name" <"$tmp/out")" = ""
check test "$("$jget" "parameters/vms/name=$snp_name" <"$tmp/out")" = ""
expect_json parameters/vms/0/name "$vga_name"
{ wait "$monitor_pid"; } 2>/dev/null
check test $? = 0
monitor_pid=
check grep -q "\"action\":\"expired\",\"vm\":\"$name\"" "$tmp/monitor"
check grep -q "\"action\":\"removed\",\"vm\":\"$snp_name\"" "$tmp/monitor"
stop_daemon TERM

# ----- a corrupt state file is moved aside, the daemon starts empty ----------------
# (and --no-module: plans are only recorded, by the "none" applier)
echo 'this is not JSON' >"$state"
start_daemon --no-module
v "$M.GetStatus"
expect_ok && expect_json parameters/vms 0
expect_json parameters/applier/name none
expect_json parameters/applier/available false
expect_json parameters/applier/reason "memtyped runs without memtype.ko (--no-module)"
check compgen -G "$state.corrupt-*" >/dev/null
check grep -q 'this is not JSON' "$state".corrupt-*
stop_daemon TERM

# ----- libvirt: libvirt's in-process test driver runs the domain "test" ------------
# memtyped reconciles it on connect, and answers Plan/Explain/Apply of a
# libvirt VM by name once the libvirt thread has its XML.
rm -f "$state"
libvirt_args=(--libvirt-uri test:///default)
start_daemon
libvirt_args=(--no-libvirt)
for _ in $(seq 100); do
	v "$M.ListVMs"
	[[ $(get 'parameters/vms/name=test/state') == running ]] && break
	sleep 0.05
done
expect_json 'parameters/vms/name=test/source' libvirt
expect_json 'parameters/vms/name=test/state' running
expect_null 'parameters/vms/name=test/last_phase'
v "$M.GetStatus"
expect_json parameters/libvirt/enabled true
expect_json parameters/libvirt/connected true
expect_json parameters/libvirt/uri test:///default
v "$M.Plan" '{"name":"test"}'
expect_ok && expect_json parameters/plan/vm/name test
v "$M.Explain" '{"name":"test"}'
expect_ok && expect_match parameters/text test
v "$M.Apply" '{"name":"test"}'
expect_ok && expect_json parameters/vm/name test
v "$M.Plan" '{"name":"no-such-domain"}'
expect_error "$M.NoSuchVM" && expect_json parameters/name no-such-domain
stop_daemon TERM

# ----- a bad policy at start is fatal, with a message naming the file ---------------
echo '{ "schema": "memtype.policy/1", "mode": "turbo" }' >"$policy"
rc=0
"$daemon" --root "$root" --policy "$policy" --policy-dir "$tmp/policy.d" --state "$state" \
	--socket "$sock" --no-libvirt --no-udev >"$tmp/out" 2>&1 || rc=$?
check test "$rc" = 1
check grep -q 'memtype\.json:1' "$tmp/out"
rc=0
"$daemon" --pending-ttl 0 >"$tmp/out" 2>&1 || rc=$?
check test "$rc" = 2
# An unknown VMM user is fatal too: the module would trust nobody.
rc=0
"$daemon" --vmm-user no-such-user-memtype --socket "$sock" --state "$state" --no-libvirt \
	--no-udev >"$tmp/out" 2>&1 || rc=$?
check test "$rc" = 1
check grep -q "VMM user 'no-such-user-memtype' does not exist" "$tmp/out"

# Under --enable-sanitizers, whatever ASan/UBSan found in the daemon.
if grep -qE 'ERROR: (Address|Leak)Sanitizer|runtime error:' "$tmp/daemon.log"; then
	fail "the sanitizers reported errors in memtyped"
	grep -E -A12 'ERROR: (Address|Leak)Sanitizer|runtime error:' "$tmp/daemon.log" | head -40
fi

echo "$checks checks, $failures failed"
if [[ $failures -gt 0 ]]; then
	echo "--- memtyped log"
	tail -n 40 "$tmp/daemon.log"
	exit 1
fi
exit 0
