#!/bin/sh
# tests/kmod/daemon-test.sh: memtyped, memtypectl and the libvirt hook
# against the real memtype.ko, inside the kernel rig (tests/kmod/rig packs
# the programs and their libraries; /init runs this after mt-test). The VMs
# are created by mt-vmm with "-uuid UUID" in its argv, as QEMU's are.
# Prints "ok N - ..." / "not ok N - ..." and "daemon-test: N passed, N failed".
PATH=/usr/sbin:/usr/bin:/bin
export PATH
# The hook as libvirt runs it; it finds memtypectl here, not in the
# configured bindir.
HOOK=/usr/libexec/memtype/memtype-hook
MEMTYPECTL=/usr/bin/memtypectl
export MEMTYPECTL
n=0
bad=0
ok() { n=$((n + 1)); echo "ok $n - $*"; }
nok() { n=$((n + 1)); bad=$((bad + 1)); echo "not ok $n - $*"; }
# check DESC CMD...: ok when CMD succeeds.
check() {
	d=$1
	shift
	if "$@"; then ok "$d"; else nok "$d"; fi
}
# field NAME KEY: KEY of VM NAME in `memtypectl --json vms`.
field() { memtypectl --json vms | json-get "name=$1/$2" 2>/dev/null; }
expect_field() {
	got=$(field "$1" "$2")
	if [ "$got" = "$3" ]; then ok "$1: $2 is $3"; else nok "$1: $2 is '$got', expected '$3'"; fi
}

U1=6d656d74-7970-4562-8000-0000000000d1
U2=6d656d74-7970-4562-8000-0000000000d2
SOCK=/run/memtype/io.memtype.Manager
mkdir -p /etc/memtype /run/memtype /var/lib/memtype /tmp/dt
# An explicit policy: disable CD_NW_CLEARED (bit 1), which KVM on SVM
# never disables by itself (FACTS §1.2, §11).
cat >/etc/memtype/memtype.json <<'POL'
{ "schema": "memtype.policy/1", "mode": "balanced", "quirks": { "CD_NW_CLEARED": "disable" } }
POL
domain() {
	cat <<XML
<domain type='kvm'>
  <name>$1</name>
  <uuid>$2</uuid>
  <memory unit='MiB'>64</memory>
  <os><type arch='x86_64' machine='pc'>hvm</type></os>
  <devices/>
</domain>
XML
}
domain dt-one "$U1" >/tmp/dt/one.xml
domain dt-two "$U2" >/tmp/dt/two.xml

start_daemon() {
	memtyped --no-libvirt --no-udev --log-level info >>/tmp/dt/memtyped.log 2>&1 &
	dpid=$!
	i=0
	while [ $i -lt 100 ] && [ ! -S $SOCK ]; do
		sleep 0.1
		i=$((i + 1))
	done
	[ -S $SOCK ]
}
stop_daemon() {
	kill "$dpid" 2>/dev/null
	wait "$dpid" 2>/dev/null
	rm -f $SOCK
}
# start_vmm NAME UUID: mt-vmm creating one VM; its pid in $vpid.
start_vmm() {
	rm -f "/tmp/dt/$1.in" "/tmp/dt/$1.out"
	mkfifo "/tmp/dt/$1.in"
	mt-vmm -name "guest=$1" -uuid "$2" <"/tmp/dt/$1.in" >"/tmp/dt/$1.out" &
	vpid=$!
	exec 7>"/tmp/dt/$1.in"
	echo vm >&7
	echo vcpu 0 >&7
	echo run 0 out >&7
	i=0
	while [ $i -lt 100 ] && [ "$(grep -c '^ok' "/tmp/dt/$1.out" 2>/dev/null)" -lt 3 ]; do
		sleep 0.1
		i=$((i + 1))
	done
	grep -q 'EXIT=hlt' "/tmp/dt/$1.out"
}
stop_vmm() {
	echo quit >&7
	exec 7>&-
	wait "$vpid" 2>/dev/null
}

check "memtyped starts on the rig's host" start_daemon
memtypectl status >/tmp/dt/status 2>&1
check "status shows memtype.ko with its ABI" grep -q '^Module: *memtype\.ko ABI 1, built for ' /tmp/dt/status
check "status: the applier is available" grep -q '^Applier: *memtype\.ko, available' /tmp/dt/status
check "status: the module can apply at creation" grep -q 'can: .*apply-at-creation' /tmp/dt/status

# Registered before the VMM exists: pending in the module.
memtypectl register /tmp/dt/one.xml >/dev/null 2>&1
expect_field dt-one apply pending
expect_field dt-one disable_quirks_mask 2
grep -q "$U1" /sys/kernel/debug/memtype/pending 2>/dev/null &&
	ok "debugfs lists the pending UUID" || nok "debugfs lists the pending UUID"

check "a VMM started with -uuid creates and runs its VM" start_vmm dt-one "$U1"
memtypectl register --pid "$vpid" /tmp/dt/one.xml >/dev/null 2>&1
expect_field dt-one apply applied
expect_field dt-one readback/memtype_mask 2
expect_field dt-one readback/noncoherent 0
reason=$(field dt-one apply_reason)
case $reason in
*"at VM creation, before the first guest entry"*) ok "applied at creation, before the first guest entry" ;;
*) nok "apply_reason '$reason'" ;;
esac
memtypectl verify dt-one >/tmp/dt/verify 2>&1
check "verify: no drift (exit 0)" test $? = 0
check "verify says no drift" grep -q '^Drift: *no' /tmp/dt/verify
stop_vmm

# memtyped down: the hook plans offline and hands the plan to the module.
stop_daemon
$HOOK dt-two prepare begin - </tmp/dt/two.xml >/tmp/dt/hook.out 2>/tmp/dt/hook.err
check "offline hook exits 0" test $? = 0
check "offline hook prints nothing on stdout" test ! -s /tmp/dt/hook.out
check "offline hook says it planned offline" \
	grep -q 'memtyped is down; planned offline, memtype.ko disables CD_NW_CLEARED' /tmp/dt/hook.err
check "a VMM for the offline-planned VM" start_vmm dt-two "$U2"
check "memtyped starts again" start_daemon
memtypectl register --pid "$vpid" /tmp/dt/two.xml >/dev/null 2>&1
expect_field dt-two apply applied
expect_field dt-two readback/memtype_mask 2
stop_vmm
stop_daemon

[ $bad = 0 ] || { echo "---- memtyped log"; cat /tmp/dt/memtyped.log; cat /tmp/dt/status /tmp/dt/verify /tmp/dt/hook.err 2>/dev/null; }
echo "daemon-test: $((n - bad)) passed, $bad failed"
[ $bad = 0 ]
