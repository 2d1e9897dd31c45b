#!/bin/bash
# CLI tests of memtypectl: exit codes and key output of every offline verb,
# run on the fixture host roots (tests/roots/*), the domain XML fixtures
# (tests/xml/*) and tests/cli/gpu.lspci, a hand-written lspci -xxx dump of
# a GPU (prefetchable 64-bit BARs 1 and 3, No-Snoop on) and its audio
# function (No-Snoop off). Run by `make check`; exit 77 skips.
set -u

T=${MT_TEST_DIR:?MT_TEST_DIR is not set (run through make check)}
B=${MT_BUILD_DIR:?MT_BUILD_DIR is not set (run through make check)}
ctl=$B/memtypectl
jget=$B/tests/json-get
compare=$B/tests/acceptance/compare-lspci
# Fixture roots are committed under tests/roots or generated into the build
# tree from their .desc files.
root=$T/roots/intel-client
[[ -d $root ]] || root=$B/tests/roots/intel-client
dump=$T/cli/gpu.lspci

for f in "$ctl" "$jget" "$compare"; do
	if [[ ! -x $f ]]; then
		echo "SKIP: $f is not built"
		exit 77
	fi
done
if [[ ! -d $root ]]; then
	echo "SKIP: fixture root $root is missing"
	exit 77
fi

tmp=$(mktemp -d "${TMPDIR:-/tmp}/test-cli.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
# Traversable, so that the unprivileged capture below reaches its directory.
chmod 755 "$tmp"
failures=0
checks=0
. "$T/cli-lib.sh"

echo '{}' >"$tmp/empty-policy.json"
pol=(--policy "$tmp/empty-policy.json")

# ----- command line ---------------------------------------------------------

run --help
expect_rc 0 && expect_out 'Exit status' && expect_out 'policy check FILE'
run --version
expect_rc 0 && expect_out '^memtypectl [0-9]+\.[0-9]+'
run
expect_rc 2 && expect_err '^memtypectl: missing verb' && expect_no_out
run frobnicate
expect_rc 2 && expect_err "unknown verb 'frobnicate'"
run --frobnicate inventory
expect_rc 2 && expect_err "unknown option '--frobnicate'"
run --json=ugly inventory --root "$root"
expect_rc 2 && expect_err 'unknown mode'
run inventory --root
expect_rc 2 && expect_err 'needs an argument'
run inventory --root "$root" --xml "$T/xml/plain.xml"
expect_rc 2 && expect_err "option --xml does not apply to 'inventory'"
run devices extra
expect_rc 2 && expect_err "too many arguments"
run policy
expect_rc 2
run policy frob x.json
expect_rc 2 && expect_err "unknown command 'policy frob'"

# Online verbs say plainly when memtyped is not there (test-cli-online.sh
# tests them with a daemon).
for verb in status vms "apply win11" "verify win11" monitor "register $T/xml/plain.xml"; do
	# shellcheck disable=SC2086 # the verb and its argument
	MEMTYPE_SOCKET=$tmp/no-daemon.sock run $verb
	expect_rc 7 && expect_err "^memtypectl: memtyped is not running \(no socket at $tmp/no-daemon\.sock\)$"
done
MEMTYPE_SOCKET=$tmp/no-daemon.sock run plan win11
expect_rc 7 && expect_err 'memtyped is not running'
run plan --root "$root" "${pol[@]}"
expect_rc 2 && expect_err "'plan' needs --xml FILE"
run plan win11 --xml "$T/xml/plain.xml"
expect_rc 2 && expect_err 'not both'

# ----- inventory, devices, iommu --------------------------------------------

run --json inventory --root "$root"
expect_rc 0 && expect_json schema memtype.host/1 && expect_json root "$root"
n_root=$("$jget" 'devices/#' <"$tmp/out" || echo 0)
checks=$((checks + 1))
((n_root > 0)) || fail "inventory of $root lists no devices"
run inventory --root "$root"
expect_rc 0 && expect_out "^Source: +sysfs of $root" && expect_out '^BDF +ID +CLASS'
run devices --root "$root"
expect_rc 0 && expect_out '^BDF +ID +CLASS +DRIVER +GROUP +UNIT +SC +NOSNOOP +BARS'
checks=$((checks + 1))
[[ $(($(wc -l <"$tmp/out") - 1)) == "$n_root" ]] || fail "devices: not one line per function ($n_root)"
run iommu --root "$root"
expect_rc 0 && expect_out '^UNIT +KIND +CAP +ECAP +SC +C +DEVICES' && expect_out '^dmar[0-9]+ +intel-vtd +0x'
run --json=pretty iommu --root "$root"
expect_rc 0 && expect_json present true && expect_json units/0/kind intel-vtd
# Damaged roots: a partial inventory (0), a clean refusal (3) or a plan with
# errors (4), never a crash.
for broken in "$T"/roots/broken-*/; do
	[[ -d $broken ]] || continue
	for verb in inventory devices iommu plan; do
		if [[ $verb == plan ]]; then
			run --json plan --root "$broken" --xml "$T/xml/venus-cmdline.xml" "${pol[@]}"
		else
			run --json "$verb" --root "$broken"
		fi
		checks=$((checks + 1))
		if ((rc != 0 && rc != 3 && rc != 4)) || grep -qE 'Sanitizer|runtime error' "$tmp/err"; then
			fail "$last: exit $rc: $(head -c 400 "$tmp/err")"
		elif ((rc == 3)); then
			expect_err "$broken"
		fi
	done
done
run inventory --root "$tmp/no-such-root"
expect_rc 3 && expect_err "cannot read host root $tmp/no-such-root"

# lspci dump mode: what a dump lacks is said; the bits it has are read.
run inventory --lspci-dump "$dump"
expect_rc 0 && expect_out 'no BAR sizes' && expect_out '^0000:01:00\.0 +10de:2204 +030000'
run --json devices --lspci-dump "$dump"
expect_rc 0 && expect_json '#' 2 && expect_json 'bdf=0000:01:00.0/nosnoop_enabled' true &&
	expect_json 'bdf=0000:01:00.1/nosnoop_enabled' false &&
	expect_json 'bdf=0000:01:00.0/bars/index=1/prefetchable' true &&
	expect_json 'bdf=0000:01:00.0/sizes_known' false
run devices --lspci-dump "$dump"
expect_rc 0 && expect_out '1:mem\(p\) 3:mem\(p\) 5:io'
# lspci is the oracle for what a dump holds.
if command -v lspci >/dev/null; then
	run --json inventory --lspci-dump "$dump"
	checks=$((checks + 1))
	lspci -F "$dump" -vvv -n -D >"$tmp/lspci.txt" 2>/dev/null &&
		"$compare" "$tmp/out" "$tmp/lspci.txt" >"$tmp/cmp" ||
		fail "inventory of $dump disagrees with lspci: $(cat "$tmp/cmp")"
fi
printf '01:00.0 junk\n00: zz zz\n' >"$tmp/bad.lspci"
run inventory --lspci-dump "$tmp/bad.lspci"
checks=$((checks + 1))
((rc == 0 || rc == 3)) || fail "$last: exit $rc on a malformed dump (want 0 or 3)"
run inventory --lspci-dump "$tmp/no-such-dump"
expect_rc 3 && expect_err "no-such-dump"

# --capture: only from the live host, and never a partial one.
run inventory --capture "$tmp/cap" --root "$root"
expect_rc 2 && expect_err 'cannot be combined'
run --json inventory
live_partial=$("$jget" partial <"$tmp/out" 2>/dev/null || echo unknown)
run inventory --capture "$tmp/cap"
if [[ $live_partial == true ]]; then
	expect_rc 5 && expect_err 'refusing to capture a partial inventory'
elif [[ $live_partial == false ]]; then
	expect_rc 0 && expect_out "Captured the live host into $tmp/cap"
	run --json inventory --root "$tmp/cap"
	expect_rc 0 && expect_json partial false
fi
# Without privileges the live inventory is partial, so capture must refuse.
if ((EUID == 0)) && command -v setpriv >/dev/null &&
	setpriv --reuid=65534 --regid=65534 --clear-groups --inh-caps=-all test -x "$ctl" 2>/dev/null; then
	mkdir -m 1777 "$tmp/nobody"
	rc=0
	setpriv --reuid=65534 --regid=65534 --clear-groups --inh-caps=-all \
		"$ctl" inventory --capture "$tmp/nobody/cap" >"$tmp/out" 2>"$tmp/err" || rc=$?
	last="memtypectl inventory --capture (as nobody)"
	expect_rc 5 && expect_err 'partial'
fi

# ----- plan and explain -----------------------------------------------------

xml=$T/xml/venus-cmdline.xml
run --json plan --root "$root" --xml "$xml" "${pol[@]}"
expect_rc 0 && expect_json schema memtype.plan/1 &&
	expect_json 'quirks/name=IGNORE_GUEST_PAT/action' disable &&
	expect_json disable_quirks_mask 0x200
run --json=pretty plan --root "$root" --xml "$xml" "${pol[@]}"
expect_rc 0 && expect_out '"action": "disable"'
run plan --root "$root" --xml "$xml" "${pol[@]}"
expect_rc 0 && expect_out '^IGNORE_GUEST_PAT +9 +disable' && expect_out '^Disable mask: 0x200$' &&
	expect_out '^Errors: none$'
run explain --root "$root" --xml "$xml" "${pol[@]}"
expect_rc 0 && expect_out 'IGNORE_GUEST_PAT' && expect_out 'FACTS'
run --json explain --root "$root" --xml "$xml" "${pol[@]}"
expect_rc 0 && expect_json schema memtype.plan/1
checks=$((checks + 1))
"$jget" explanation <"$tmp/out" | grep -q IGNORE_GUEST_PAT || fail "explain --json: no explanation"

# A std VGA display keeps the quirk and warns, and is not an error.
run --json plan --root "$root" --xml "$T/xml/venus-with-vga.xml" "${pol[@]}"
expect_rc 0 && expect_json 'warnings/code=uc-display/code' uc-display &&
	expect_json 'quirks/name=IGNORE_GUEST_PAT/action' keep
run plan --root "$root" --xml "$T/xml/venus-with-vga.xml" "${pol[@]}"
expect_rc 0 && expect_out '^  uc-display: '

# A hostdev the host does not have: the plan is printed, with exit 4.
sed -e "s|<address domain='0x0000' bus='0x01' slot='0x00' function='0x0'/>|<address domain='0x0000' bus='0x7e' slot='0x1f' function='0x7'/>|" \
	"$T/xml/gpu-passthrough.xml" >"$tmp/missing-dev.xml"
run --json plan --root "$root" --xml "$tmp/missing-dev.xml" "${pol[@]}"
expect_rc 4 && expect_json 'errors/code=device-not-found/code' device-not-found
run plan --root "$root" --xml "$tmp/missing-dev.xml" "${pol[@]}"
expect_rc 4 && expect_out 'device-not-found' && expect_out '^QUIRK'

# Bad input names the file and the line.
printf '<domain type="kvm">\n  <name>broken</name>\n  <devices>\n    <hostdev\n</domain>\n' >"$tmp/bad.xml"
run plan --root "$root" --xml "$tmp/bad.xml" "${pol[@]}"
expect_rc 3 && expect_err "bad\.xml" && expect_err '(:|line )[45]' && expect_no_out
run plan --root "$root" --xml "$tmp/no-such.xml" "${pol[@]}"
expect_rc 3 && expect_err 'no-such\.xml'
run plan --root "$root" --xml "$xml" --policy "$tmp/no-such-policy.json"
expect_rc 3 && expect_err 'no-such-policy\.json'
run plan --root "$tmp/no-such-root" --xml "$xml" "${pol[@]}"
expect_rc 3 && expect_err 'no-such-root'

# ----- policy check ---------------------------------------------------------

printf '{\n  "mode": "performance"\n}\n' >"$tmp/10-mode.json"
printf '{\n  "mode": "balanced",\n  "frobnicate": true\n}\n' >"$tmp/20-bad.json"
run policy check "$tmp/10-mode.json"
expect_rc 0 && expect_out '^Mode: +performance \(.*10-mode\.json:2\)'
run --json policy check "$tmp/10-mode.json"
expect_rc 0 && expect_json mode performance
run policy check "$tmp/10-mode.json" "$tmp/20-bad.json"
expect_rc 3 && expect_err '20-bad\.json:3' && expect_no_out
run policy check "$tmp/no-such.json"
expect_rc 3 && expect_err 'no-such\.json'

echo "$checks checks, $failures failed"
((failures == 0))
