noinst_LIBRARIES += libmtcommon.a
libmtcommon_a_SOURCES = \
	common/macro.h \
	common/strtable.h \
	common/error.c common/error.h \
	common/fileio.c common/fileio.h \
	common/json-util.c common/json-util.h
libmtcommon_a_CFLAGS = $(AM_CFLAGS) $(JSONC_CFLAGS)

check_PROGRAMS += tests/test-common
TESTS += tests/test-common
tests_test_common_SOURCES = tests/test-common.c
tests_test_common_CFLAGS = $(TEST_CFLAGS)
tests_test_common_LDADD = $(POLICY_LIBS) $(TEST_LIBS)
