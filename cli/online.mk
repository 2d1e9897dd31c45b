# cli: memtypectl's online verbs (they ask memtyped over varlink) and the
# libvirt hook, with their tests.
memtypectl_SOURCES += cli/verb-online.c cli/hook.c cli/hook.h cli/online-error.c cli/online-error.h \
	cli/verb-hook-offline.c
memtypectl_CFLAGS += $(LIBSYSTEMD_CFLAGS) -DMEMTYPECTL_PATH=\"$(bindir)/memtypectl\"
memtypectl_LDADD += libmtdaemon.a $(VARLINK_LIBS) $(LIBSYSTEMD_LIBS)

# The hook libvirt runs (qemu.d/50-memtype): the same code as
# `memtypectl libvirt-hook`, linked only to json-c and the varlink client.
# --as-needed keeps libsystemd (pulled in by the varlink server's part of
# libmtvarlink.a, which the hook does not use) off its DT_NEEDED list.
pkglibexec_PROGRAMS = memtype-hook
memtype_hook_SOURCES = cli/memtype-hook.c cli/hook.c cli/hook.h cli/online-error.c cli/online-error.h \
	cli/output.c cli/output.h
memtype_hook_CFLAGS = $(AM_CFLAGS) $(JSONC_CFLAGS) -DMEMTYPECTL_PATH=\"$(bindir)/memtypectl\"
memtype_hook_LDFLAGS = -Wl,--as-needed
memtype_hook_LDADD = libmtvarlink.a $(COMMON_LIBS)

# A listener that accepts and never answers: a hung memtyped for the hook.
check_PROGRAMS += tests/silent-listener
tests_silent_listener_SOURCES = tests/silent-listener.c
tests_silent_listener_CFLAGS = $(AM_CFLAGS)

TESTS += tests/test-cli-online.sh
EXTRA_DIST += tests/test-cli-online.sh
