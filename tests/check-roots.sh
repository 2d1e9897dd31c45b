#!/bin/sh
# Checks the committed fixture roots under tests/roots: each one is exactly
# what tests/mkroot generates from its description (so nobody hand-edits a
# fixture), and lspci's sysfs back end reads each valid root like a real
# machine: no errors, the expected functions, capabilities and links.
# Run by "make check" (MT_TEST_DIR, MT_BUILD_DIR are set there).
set -u

srcdir=${MT_TEST_DIR:-$(dirname "$0")}
builddir=${MT_BUILD_DIR:-.}
mkroot="$builddir/tests/mkroot"
lspci=$(command -v lspci || echo /usr/bin/lspci)
work=$(mktemp -d "${TMPDIR:-/tmp}/check-roots.XXXXXX") || exit 99
trap 'rm -rf "$work"' EXIT
failures=0

fail() {
	echo "FAIL: $*"
	failures=$((failures + 1))
}

[ -x "$mkroot" ] || { echo "SKIP: $mkroot not built"; exit 77; }
[ -x "$lspci" ] || { echo "SKIP: lspci not installed"; exit 77; }

# git keeps no empty directories (no-iommu's sys/class/iommu): a difference
# that is only a tree of empty directories on one side is not a difference.
only_empty_dirs() {
	while IFS= read -r line; do
		case "$line" in
		"Only in "*)
			dir=${line#Only in }
			path="${dir%%: *}/${dir#*: }"
			[ -d "$path" ] && [ -z "$(find "$path" ! -type d)" ] && continue
			;;
		esac
		echo "$line"
	done
}

check_generated() {
	name=$1
	if ! "$mkroot" "$srcdir/roots/$name.desc" "$work/$name" 2>"$work/$name.err"; then
		fail "$name: mkroot failed: $(cat "$work/$name.err")"
		return
	fi
	if [ ! -d "$srcdir/roots/$name" ]; then
		fail "$name: tests/roots/$name is missing (regenerate it, see tests/roots/README.md)"
		return
	fi
	diffs=$(diff -r --no-dereference "$srcdir/roots/$name" "$work/$name" 2>&1 | only_empty_dirs)
	[ -z "$diffs" ] || fail "$name: committed root differs from its description:
$diffs"
}

lspci_root() {
	"$lspci" -vvv -A linux-sysfs -O "sysfs.path=$1/sys/bus/pci" 2>&1 |
		grep -v '^lspci: Unable to load libkmod resources'
}

# root @ extended-regex @ expected number of matching lines in lspci -vvv
expectations='
intel-client@^[0-9a-f]{2}:[0-9a-f]{2}\.[0-7] @11
intel-client@Kernel driver in use@9
intel-client@IOMMU group: @11
intel-client@NoSnoop\+@3
intel-client@Vector table: BAR=0 offset=00b90000@1
intel-client@Region 1: Memory at [0-9a-f]+ \(64-bit, prefetchable\) \[size=16G\]@1
intel-client@Root Complex Integrated Endpoint@1
intel-client@I/O ports at [0-9a-f]+ \[size=128\]@1
intel-server-sriov@^[0-9a-f]{2}:[0-9a-f]{2}\.[0-7] @10
intel-server-sriov@Single Root I/O Virtualization \(SR-IOV\)@2
intel-server-sriov@Total VFs: 64, Number of VFs: 4,@1
intel-server-sriov@VF offset: 16, stride: 1, Device ID: 154c@1
intel-server-sriov@\(64-bit, prefetchable\) \[virtual\]@8
intel-server-sriov@Kernel driver in use: vfio-pci@1
intel-server-sriov@Kernel driver in use: iavf@3
intel-server-sriov@IOMMU group: @10
intel-server-sriov@Vector table: BAR=3 offset=00000000@6
amd-epyc-gpu@^[0-9a-f]{2}:[0-9a-f]{2}\.[0-7] @13
amd-epyc-gpu@BAR 0: current size: 32GB, supported: 256MB .* 32GB@1
amd-epyc-gpu@Region 0: Memory at [0-9a-f]+ \(64-bit, prefetchable\) \[size=32G\]@1
amd-epyc-gpu@Region 5: Memory at [0-9a-f]+ \(32-bit, non-prefetchable\) \[size=1M\]@1
amd-epyc-gpu@Express \(v2\) (Upstream|Downstream) Port@2
amd-epyc-gpu@Kernel driver in use: amdgpu@1
amd-epyc-gpu@IOMMU group: @11
no-iommu@^[0-9a-f]{2}:[0-9a-f]{2}\.[0-7] @6
no-iommu@IOMMU group@0
no-iommu@Kernel driver in use@5
no-iommu@NoSnoop\+@3
'

check_lspci() {
	name=$1
	out=$(lspci_root "$srcdir/roots/$name")
	[ $? -eq 0 ] || fail "$name: lspci failed"
	bad=$(printf '%s\n' "$out" | grep -E 'Cannot|Error|error|!!!|<broken|<ignored>|<unassigned>')
	[ -z "$bad" ] || fail "$name: lspci complains:
$bad"
	n_dirs=$(ls "$srcdir/roots/$name/sys/bus/pci/devices" | wc -l)
	n_seen=$(printf '%s\n' "$out" | grep -cE '^[0-9a-f]{2}:[0-9a-f]{2}\.[0-7] ')
	[ "$n_dirs" -eq "$n_seen" ] || fail "$name: $n_dirs functions in sysfs, lspci shows $n_seen"
	printf '%s\n' "$expectations" | while IFS='@' read -r root regex count; do
		[ "$root" = "$name" ] || continue
		got=$(printf '%s\n' "$out" | grep -cE -- "$regex")
		[ "$got" -eq "$count" ] || echo "FAIL: $name: $got lines match /$regex/, expected $count"
	done > "$work/$name.expect"
	if [ -s "$work/$name.expect" ]; then
		cat "$work/$name.expect"
		failures=$((failures + $(wc -l < "$work/$name.expect")))
	fi
}

for desc in "$srcdir"/roots/*.desc; do
	name=$(basename "$desc" .desc)
	check_generated "$name"
	case "$name" in
	broken-*) ;;
	*) check_lspci "$name" ;;
	esac
done

# The broken roots really are broken for libpci, whose default error
# handler exits: the reason the inventory installs its own.
lspci_root "$srcdir/roots/broken-symlinks" | grep -q 'Cannot open' ||
	fail "broken-symlinks: lspci read it without error"
lspci_root "$srcdir/roots/broken-resource" | grep -q 'Syntax error' ||
	fail "broken-resource: lspci did not report a syntax error"

if [ "$failures" -ne 0 ]; then
	echo "$failures failure(s)"
	exit 1
fi
echo "all roots check out"
