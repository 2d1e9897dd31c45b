#!/bin/bash
# Checks what memtype installs for systemd and libvirt, as generated in the
# build tree: systemd-analyze verify and security on the units, sysusers and
# tmpfiles applied to a scratch root, the libvirt hook script run against a
# recording stand-in of memtypectl, and the paths the units and snippets
# name against the defaults compiled into memtyped and memtypectl.
#
# Runs without systemd as PID 1 (as in containers and CI): "verify" and
# "security --offline" only load unit files, sysusers/tmpfiles take --root.
# Parts whose tool is missing are skipped with a note.
set -uo pipefail

src=$(cd "${MT_TEST_DIR:-$(dirname "$0")}/.." && pwd)
build=${MT_BUILD_DIR:-$PWD}
# Exposure score ("systemd-analyze security") above which the sandbox counts
# as loosened; the unit scores 2.2 with systemd 252.
max_exposure=3.0

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

passed=0
failed=0

pass() {
	passed=$((passed + 1))
	echo "PASS: $*"
}

fail() {
	failed=$((failed + 1))
	echo "FAIL: $*"
}

skip() {
	echo "SKIP: $*"
}

have() {
	command -v "$1" >/dev/null 2>&1
}

# The value of KEY= in a unit or snippet (last one wins, as in systemd).
unit_value() {
	sed -n "s/^$2=//p" "$1" | tail -n 1
}

# A C string #define from a header of the source tree.
c_define() {
	sed -n "s/^#define $2 \"\(.*\)\"$/\1/p" "$src/$1"
}

check_generated() {
	local f ok=1
	for f in systemd/memtyped.service systemd/memtyped.socket \
		systemd/sysusers.d/memtype.conf systemd/tmpfiles.d/memtype.conf \
		systemd/modules-load.d/memtype.conf; do
		if [[ ! -s $build/$f ]]; then
			fail "generated: $build/$f missing or empty"
			ok=0
		fi
	done
	((ok)) || return 1
	pass "generated: units and snippets exist"
}

# Copies the units with ExecStart= pointing at the memtyped of this build,
# so that verify checks a binary that exists. The rest stays as installed.
stage_units() {
	local exec memtyped=$build/memtyped
	exec=$(unit_value "$build/systemd/memtyped.service" ExecStart)
	if [[ $exec != /*/memtyped ]]; then
		fail "service: ExecStart=$exec is not an absolute path to memtyped"
		return 1
	fi
	if [[ ! -x $memtyped ]]; then
		# Only while memtyped is being written: `make` builds it.
		memtyped=$tmp/sbin/memtyped
		mkdir -p "$tmp/sbin"
		printf '#!/bin/sh\nexit 0\n' >"$memtyped"
		chmod +x "$memtyped"
		echo "note: $build/memtyped not built, ExecStart= checked against a stand-in"
	fi
	mkdir -p "$tmp/units"
	sed "s|^ExecStart=.*|ExecStart=$memtyped|" "$build/systemd/memtyped.service" \
		>"$tmp/units/memtyped.service"
	cp "$build/systemd/memtyped.socket" "$tmp/units/"
}

# Documentation=man:... is checked against the pages of the source tree.
stage_man() {
	local page sect
	for page in "$src"/man/*.[1-9]; do
		sect=${page##*.}
		mkdir -p "$tmp/man/man$sect"
		ln -s "$page" "$tmp/man/man$sect/"
	done
}

# systemd-analyze verify exits 0 on many problems it only warns about (an
# unknown key or a bad value is "ignoring"), so any output fails the check.
# --recursive-errors=one: our units and what they name directly (a Requires=
# on a unit that does not exist fails), not the rest of the host's units;
# generators are not needed to load two unit files.
run_verify() {
	local out man_flag=--man=yes
	if ! have man; then
		man_flag=--man=no
		echo "note: man not installed, Documentation= links not checked"
	fi
	out=$(MANPATH=$tmp/man SYSTEMD_COLORS=0 systemd-analyze verify "$man_flag" \
		--generators=no --recursive-errors=one \
		"$tmp/units/memtyped.service" "$tmp/units/memtyped.socket" 2>&1)
	local rc=$?
	if ((rc != 0)) || [[ -n $out ]]; then
		printf '%s\n' "$out"
		fail "systemd-analyze verify (exit $rc, output above)"
		return
	fi
	pass "systemd-analyze verify memtyped.service memtyped.socket"
}

run_security() {
	local out score
	if ! out=$(systemd-analyze security --offline=yes --threshold=100 \
		"$tmp/units/memtyped.service" 2>&1); then
		printf '%s\n' "$out" | tail -n 5
		skip "systemd-analyze security --offline not supported here"
		return
	fi
	score=$(sed -n 's/.*Overall exposure level for memtyped.service: \([0-9.]*\).*/\1/p' <<<"$out")
	if [[ -z $score ]]; then
		fail "systemd-analyze security: no exposure level in its output"
	elif awk -v s="$score" -v m="$max_exposure" 'BEGIN { exit !(s > m) }'; then
		printf '%s\n' "$out" | grep '✗'
		fail "systemd-analyze security: exposure $score above $max_exposure"
	else
		pass "systemd-analyze security: exposure $score (at most $max_exposure)"
	fi
}

check_units() {
	if ! have systemd-analyze; then
		skip "systemd-analyze not installed: units not verified"
		return
	fi
	stage_units || return
	stage_man
	run_verify
	run_security
}

# The socket path, state and policy directories the units and tmpfiles
# name must be the ones memtyped and its clients use by default.
check_paths() {
	local sock state_dir dropin_dir listen
	sock=$(c_define daemon/varlink-client.h MEMTYPE_SOCKET_DEFAULT)
	state_dir=$(dirname "$(c_define daemon/state.h STATE_PATH_DEFAULT)")
	dropin_dir=$(c_define config/config.h POLICY_DROPIN_DIR)
	if [[ -z $sock || -z $state_dir || -z $dropin_dir ]]; then
		fail "paths: default paths not found in the headers"
		return
	fi
	listen=$(unit_value "$build/systemd/memtyped.socket" ListenStream)
	if [[ $listen == "$sock" ]]; then
		pass "socket: ListenStream=$listen is the clients' default"
	else
		fail "socket: ListenStream=$listen, clients connect to $sock"
	fi
	local d
	for d in "$state_dir" "$dropin_dir"; do
		if grep -q "^d $d " "$build/systemd/tmpfiles.d/memtype.conf"; then
			pass "tmpfiles: creates $d"
		else
			fail "tmpfiles: does not create $d"
		fi
	done
	local svc_dir tmpfiles_mode svc_mode
	svc_dir=$(unit_value "$build/systemd/memtyped.service" StateDirectory)
	svc_mode=$(unit_value "$build/systemd/memtyped.service" StateDirectoryMode)
	tmpfiles_mode=$(awk -v d="$state_dir" '$1 == "d" && $2 == d { print $3 }' \
		"$build/systemd/tmpfiles.d/memtype.conf")
	if [[ /var/lib/$svc_dir == "$state_dir" && $svc_mode == "$tmpfiles_mode" ]]; then
		pass "service: StateDirectory=$svc_dir mode $svc_mode, as tmpfiles has it"
	else
		fail "service: StateDirectory=$svc_dir mode $svc_mode; tmpfiles: $state_dir mode $tmpfiles_mode"
	fi
}

check_sysusers() {
	local root=$tmp/sysusers-root line out
	if ! have systemd-sysusers; then
		skip "systemd-sysusers not installed"
		return
	fi
	mkdir -p "$root/etc"
	if ! out=$(systemd-sysusers --root="$root" "$build/systemd/sysusers.d/memtype.conf" 2>&1); then
		printf '%s\n' "$out"
		fail "systemd-sysusers --root failed"
		return
	fi
	line=$(grep '^memtype:' "$root/etc/group")
	if [[ $line =~ ^memtype:x:([0-9]+):$ ]] && ((BASH_REMATCH[1] < 1000)); then
		pass "sysusers: system group memtype ($line)"
	else
		fail "sysusers: no system group memtype in /etc/group (got '$line')"
	fi
	if [[ -s $root/etc/passwd ]] && grep -q '^memtype:' "$root/etc/passwd"; then
		fail "sysusers: created a user memtype; only the group is needed"
	fi
}

# Prints "mode owner:group" of a path.
stat_line() {
	stat -c '%a %U:%G' "$1" 2>/dev/null
}

check_tmpfiles() {
	local root=$tmp/tmpfiles-root got path mode i
	if ! have systemd-tmpfiles; then
		skip "systemd-tmpfiles not installed"
		return
	fi
	mkdir -p "$root"
	# Twice: applying it again must change nothing and not fail.
	for i in 1 2; do
		if ! systemd-tmpfiles --root="$root" --create \
			"$build/systemd/tmpfiles.d/memtype.conf"; then
			fail "systemd-tmpfiles --root --create failed (run $i)"
			return
		fi
	done
	while read -r path mode; do
		got=$(stat_line "$root$path")
		if [[ $got == "$mode root:root" ]]; then
			pass "tmpfiles: $path $got"
		else
			fail "tmpfiles: $path is '${got:-missing}', expected '$mode root:root'"
		fi
	done <<-EOF
		/var/lib/memtype 750
		/etc/memtype 755
		/etc/memtype/policy.d 755
	EOF
}

# The hook libvirt runs (qemu.d/50-memtype links to it) loads nothing but
# libc and json-c: it runs five times in every VM's life, and libxml2 (with
# ICU), libpci and libsystemd cost milliseconds to load each time.
check_hook() {
	local hook=$build/memtype-hook needed
	if [[ ! -x $hook ]]; then
		fail "hook: $hook is not built"
		return
	fi
	# (the sanitizers' runtimes of an --enable-sanitizers build aside)
	needed=$(readelf -d "$hook" | sed -n 's/.*(NEEDED).*\[\(.*\)\]$/\1/p' |
		grep -v '^lib\(asan\|ubsan\)\.so' | sort | tr '\n' ' ')
	if [[ $needed == "libc.so.6 libjson-c.so.5 " ]]; then
		pass "hook: memtype-hook needs only libc and json-c"
	else
		fail "hook: memtype-hook needs $needed(want only libc.so.6 and libjson-c.so.5)"
	fi
}

check_generated || exit 1
check_units
check_paths
check_sysusers
check_tmpfiles
check_hook

echo "test-units: $passed passed, $failed failed"
((failed > 0)) && exit 1
exit 0
