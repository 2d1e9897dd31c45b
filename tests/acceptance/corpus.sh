#!/bin/bash
# Acceptance against real hardware data (../shared/corpus, see its
# README.md): the inventory must agree with lspci on every pciutils dump,
# and read every hwloc sysfs snapshot without crashing.
#
#   corpus.sh CORPUS_DIR
#
# Environment: MEMTYPECTL, COMPARE_LSPCI, JSON_GET (default: build/ paths).
# Prints PASS/FAIL per file and "corpus: N passed, N failed"; exit 1 on any
# failure.
set -uo pipefail

corpus=${1:?usage: corpus.sh CORPUS_DIR}
top=$(cd "$(dirname "$0")/../.." && pwd)
ctl=${MEMTYPECTL:-$top/build/memtypectl}
compare=${COMPARE_LSPCI:-$top/build/tests/acceptance/compare-lspci}
json_get=${JSON_GET:-$top/build/tests/json-get}
tmp=$(mktemp -d "${TMPDIR:-/tmp}/memtype-corpus.XXXXXX")
trap 'rm -rf "$tmp"' EXIT

passed=0
failed=0

result() {
	local ok=$1 name=$2 detail=${3:-}
	if ((ok)); then
		passed=$((passed + 1))
		echo "PASS: $name${detail:+ ($detail)}"
	else
		failed=$((failed + 1))
		echo "FAIL: $name${detail:+ ($detail)}"
	fi
}

# A status of 128 or more is a signal (a crash); ASan/UBSan exit with 1.
crashed() {
	(($1 >= 128)) || grep -qE 'Sanitizer|runtime error:' "$2"
}

check_dump() {
	local dump=$1 name=dumps/${1##*/} rc=0
	"$ctl" --json inventory --lspci-dump "$dump" >"$tmp/inv.json" 2>"$tmp/inv.err" || rc=$?
	if crashed "$rc" "$tmp/inv.err" || ((rc != 0)); then
		result 0 "$name" "memtypectl exit $rc: $(head -c 300 "$tmp/inv.err")"
		return
	fi
	if ! lspci -F "$dump" -vvv -n -D >"$tmp/lspci.txt" 2>/dev/null; then
		result 0 "$name" "lspci cannot read it"
		return
	fi
	if "$compare" "$tmp/inv.json" "$tmp/lspci.txt" >"$tmp/cmp.txt" 2>&1; then
		result 1 "$name" "$("$json_get" 'devices/#' <"$tmp/inv.json") functions agree"
	else
		cat "$tmp/cmp.txt"
		result 0 "$name" "disagrees with lspci"
	fi
}

snapshot_root() {
	local sys
	sys=$(find "$1" -maxdepth 3 -type d -name sys -print -quit)
	[[ -n $sys ]] && dirname "$sys"
}

# lspci's count of functions for a root, or nothing when lspci fails.
lspci_count() {
	local out
	out=$(lspci -D -A linux-sysfs -O sysfs.path="$1/sys/bus/pci" 2>/dev/null) || return 1
	grep -cE '^[0-9a-f]{4}:[0-9a-f]{2}:[0-9a-f]{2}\.[0-7] ' <<<"$out"
}

check_snapshot() {
	local tarball=$1 name=sysfs/${1##*/} dir root rc=0 n want partial
	dir=$tmp/${tarball##*/}.d
	mkdir -p "$dir"
	if ! tar -xjf "$tarball" -C "$dir" 2>"$tmp/tar.err"; then
		result 0 "$name" "cannot unpack: $(head -c 200 "$tmp/tar.err")"
		return
	fi
	root=$(snapshot_root "$dir")
	if [[ -z $root ]]; then
		result 0 "$name" "no sys/ directory inside"
		return
	fi
	"$ctl" --json inventory --root "$root" >"$tmp/inv.json" 2>"$tmp/inv.err" || rc=$?
	if crashed "$rc" "$tmp/inv.err"; then
		result 0 "$name" "memtypectl crashed (exit $rc): $(head -c 300 "$tmp/inv.err")"
		rm -rf "$dir"
		return
	fi
	if ! want=$(lspci_count "$root") || ((want == 0)); then
		# lspci cannot read this tree either: a clean answer is enough.
		if ((rc == 0 || rc == 3)); then
			result 1 "$name" "lspci cannot read it; memtypectl exit $rc, no crash"
		else
			result 0 "$name" "lspci cannot read it; memtypectl exit $rc"
		fi
		rm -rf "$dir"
		return
	fi
	n=$("$json_get" 'devices/#' <"$tmp/inv.json" 2>/dev/null || echo 0)
	partial=$("$json_get" partial <"$tmp/inv.json" 2>/dev/null || echo missing)
	if ((rc != 0)); then
		result 0 "$name" "memtypectl exit $rc: $(head -c 300 "$tmp/inv.err")"
	elif ((n != want)); then
		result 0 "$name" "$n functions, lspci lists $want"
	elif [[ $partial != true ]] || ! "$json_get" 'notes/0' <"$tmp/inv.json" >/dev/null; then
		# Captured without root: 64-byte config files must read as partial.
		result 0 "$name" "not marked partial with a note (partial=$partial)"
	else
		result 1 "$name" "$n functions as lspci, partial as expected"
	fi
	rm -rf "$dir"
}

for tool in "$ctl" "$compare" "$json_get"; do
	if [[ ! -x $tool ]]; then
		echo "corpus.sh: $tool is not built" >&2
		exit 2
	fi
done
if ! command -v lspci >/dev/null; then
	echo "corpus.sh: lspci (pciutils) is missing" >&2
	exit 2
fi

if [[ -d $corpus/pciutils-dumps ]]; then
	for f in "$corpus"/pciutils-dumps/*; do
		[[ -f $f ]] && check_dump "$f"
	done
else
	echo "corpus: no pciutils-dumps/ in $corpus, skipped"
fi
if [[ -d $corpus/hwloc-sysfs ]]; then
	for f in "$corpus"/hwloc-sysfs/*.tar.bz2; do
		[[ -f $f ]] && check_snapshot "$f"
	done
else
	echo "corpus: no hwloc-sysfs/ in $corpus, skipped"
fi

echo "corpus: $passed passed, $failed failed"
((failed == 0))
