# cli: memtypectl's online verbs (they ask memtyped over varlink) and the
# libvirt hook, with their tests.
memtypectl_SOURCES += cli/verb-online.c cli/verb-hook.c
memtypectl_CFLAGS += $(LIBSYSTEMD_CFLAGS)
memtypectl_LDADD += $(VARLINK_LIBS) $(LIBSYSTEMD_LIBS)

# A listener that accepts and never answers: a hung memtyped for the hook.
check_PROGRAMS += tests/silent-listener
tests_silent_listener_SOURCES = tests/silent-listener.c
tests_silent_listener_CFLAGS = $(AM_CFLAGS)

TESTS += tests/test-cli-online.sh
EXTRA_DIST += tests/test-cli-online.sh
