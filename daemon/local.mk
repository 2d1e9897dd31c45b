# daemon: memtyped parts (issue 3)
noinst_LIBRARIES += libmtvarlink.a
libmtvarlink_a_SOURCES = daemon/varlink.c daemon/varlink.h
libmtvarlink_a_CFLAGS = $(AM_CFLAGS) $(JSONC_CFLAGS) $(LIBSYSTEMD_CFLAGS)

check_PROGRAMS += tests/test-varlink
TESTS += tests/test-varlink
tests_test_varlink_SOURCES = tests/test-varlink.c
tests_test_varlink_CFLAGS = $(TEST_CFLAGS)
tests_test_varlink_LDADD = libmtvarlink.a $(COMMON_LIBS) $(TEST_LIBS)

EXTRA_DIST += tests/fuzz/fuzz-varlink.c

EXTRA_DIST += daemon/io.memtype.Manager.varlink
