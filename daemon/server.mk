# daemon: the varlink server and client (adds to libmtvarlink.a)
libmtvarlink_a_SOURCES += \
	daemon/varlink-server.c daemon/varlink-server.h \
	daemon/varlink-client.c daemon/varlink-client.h

check_PROGRAMS += tests/test-varlink-server
TESTS += tests/test-varlink-server
tests_test_varlink_server_SOURCES = tests/test-varlink-server.c
tests_test_varlink_server_CFLAGS = $(TEST_CFLAGS) $(LIBSYSTEMD_CFLAGS)
tests_test_varlink_server_LDADD = $(VARLINK_LIBS) $(TEST_LIBS)
