# daemon: state file, applier, logging, hot-plug (libmtdaemon.a)
noinst_LIBRARIES += libmtdaemon.a
libmtdaemon_a_SOURCES = \
	daemon/state.c daemon/state-file.c daemon/state.h \
	daemon/applier.c daemon/applier.h \
	daemon/kmod.c daemon/kmod.h \
	daemon/log.c daemon/log.h \
	daemon/hotplug.c daemon/hotplug.h daemon/hotplug-internal.h
libmtdaemon_a_CFLAGS = $(AM_CFLAGS) $(JSONC_CFLAGS) $(LIBSYSTEMD_CFLAGS)

check_PROGRAMS += tests/test-state
TESTS += tests/test-state
tests_test_state_SOURCES = tests/test-state.c
tests_test_state_CFLAGS = $(TEST_CFLAGS) $(LIBSYSTEMD_CFLAGS)
tests_test_state_LDADD = $(DAEMON_LIBS) $(ALL_LIBS) $(TEST_LIBS)
