#!/bin/busybox sh
# /init of the kernel rig's initramfs (tests/kmod/rig packs it). Loads the
# KVM modules and memtype.ko, runs the test driver (rig.mode=test) or the
# benchmark (rig.mode=bench), dumps the kernel log and powers off. The host
# reads the console: lines between RIG-BEGIN and RIG-RESULT.
/bin/busybox --install -s /bin
export PATH=/bin
mount -t proc proc /proc
mount -t sysfs sys /sys
mount -t devtmpfs dev /dev
mount -t debugfs debugfs /sys/kernel/debug
# cgroup v2, as systemd mounts it (mt-test's machine.slice case makes its
# cgroups here; everything else stays in the root cgroup)
mount -t cgroup2 none /sys/fs/cgroup
mount -t tmpfs tmp /tmp
echo 1 >/proc/sys/kernel/printk_ratelimit 2>/dev/null

arg() { sed -n "s/.*[[:space:]]$1=\([^[:space:]]*\).*/\1/p" /proc/cmdline; }
mode=$(arg rig.mode)
supported=$(arg rig.supported)
kvmdefault=$(arg rig.kvmdefault)
cycles=$(arg rig.cycles)
# kvm_amd.X=Y on the command line: busybox insmod does not read /proc/cmdline
amdargs=$(tr ' ' '\n' </proc/cmdline | sed -n 's/^kvm_amd\.//p' | tr '\n' ' ')

echo "RIG-BEGIN $(uname -r) mode=$mode"
fail=0
for m in irqbypass kvm ccp kvm-amd; do
	args=
	[ "$m" = kvm-amd ] && args=$amdargs
	if ! insmod /lib/modules/$m.ko $args; then
		echo "RIG-ERROR insmod $m.ko $args failed"
		fail=1
	fi
done
[ -c /dev/kvm ] || { echo "RIG-ERROR no /dev/kvm"; fail=1; }
echo "RIG-INFO kvm_amd npt=$(cat /sys/module/kvm_amd/parameters/npt 2>/dev/null)"
# A keeper VM for the whole run. KVM flips the preempt-notifier static key
# (text_poke_bp on __schedule) whenever the number of VMs goes 0 <-> 1, and
# under QEMU 7.2's multi-threaded TCG that patching races: "Oops: int3" in
# __schedule after a few hundred create/destroy cycles, reproduced without
# memtype.ko loaded. With one VM alive the key never flips. It is created
# before memtype.ko is loaded, so the module never tracks it.
# The flip for the keeper itself is made with the other CPUs offline (the
# race needs a second vCPU translating __schedule's page meanwhile); mt-test
# does the same around its own insmod/rmmod (ftrace patches kvm.ko's text).
cpus() {
	for c in /sys/devices/system/cpu/cpu[1-9]*/online; do
		[ -f "$c" ] && echo "$1" >"$c"
	done
}
cpus 0
{ echo vm; exec sleep 1000000; } | /bin/mt-vmm -name guest=keeper >/dev/null &
i=0
while [ $i -lt 100 ] && ! ls -l /proc/$!/fd 2>/dev/null | grep -q kvm-vm; do
	sleep 0.1
	i=$((i + 1))
done
ls -l /proc/$!/fd 2>/dev/null | grep -q kvm-vm || { echo "RIG-ERROR keeper VM not created"; fail=1; }
cpus 1
echo "RIG-INFO keeper VM up, $(nproc) CPUs online"
cpus 0
insmod /lib/modules/memtype.ko
r=$?
cpus 1
if [ $r != 0 ]; then
	echo "RIG-ERROR insmod memtype.ko failed"
	fail=1
fi
[ -c /dev/memtype ] || { echo "RIG-ERROR no /dev/memtype"; fail=1; }

rc=1
if [ $fail = 0 ]; then
	case $mode in
	bench)
		/bin/kmod-create -uuid 6d656d74-7970-4562-8000-000000000001 \
			-ko /lib/modules/memtype.ko
		rc=$?
		;;
	*)
		q=
		[ -x /usr/bin/qemu-system-x86_64 ] && q="-qemu /usr/bin/qemu-system-x86_64"
		/bin/mt-test -vmm /bin/mt-vmm -ko /lib/modules/memtype.ko $q \
			${supported:+-expect-supported $supported} \
			${kvmdefault:+-kvm-default $kvmdefault} ${cycles:+-cycles $cycles}
		rc=$?
		# memtyped, memtypectl and the hook against the module, where
		# the rig packed them (tests/kmod/daemon-test.sh)
		if [ -x /usr/sbin/memtyped ]; then
			if [ ! -c /dev/memtype ]; then
				cpus 0
				insmod /lib/modules/memtype.ko
				cpus 1
			fi
			/bin/daemon-test.sh || rc=1
		fi
		;;
	esac
	# the debugfs view, for operators (and the log of this run)
	for f in /sys/kernel/debug/memtype/*; do
		[ -f "$f" ] && { echo "RIG-DEBUGFS $f"; head -n 20 "$f"; }
	done
fi
echo "RIG-DMESG-BEGIN"
dmesg
echo "RIG-DMESG-END"
echo "RIG-RESULT rc=$rc"
sync
poweroff -f
