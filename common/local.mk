noinst_LIBRARIES += libmtcommon.a
libmtcommon_a_SOURCES = \
	common/macro.h \
	common/error.c common/error.h \
	common/fileio.c common/fileio.h

check_PROGRAMS += tests/test-common
TESTS += tests/test-common
tests_test_common_SOURCES = tests/test-common.c
tests_test_common_CFLAGS = $(TEST_CFLAGS)
tests_test_common_LDADD = $(POLICY_LIBS) $(TEST_LIBS)
