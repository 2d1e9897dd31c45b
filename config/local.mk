# config: operator policy files (memtype.json(5)), owner: config
noinst_LIBRARIES += libmtconfig.a
libmtconfig_a_CFLAGS = $(AM_CFLAGS) $(JSONC_CFLAGS)
libmtconfig_a_SOURCES = \
	config/config.h \
	config/json-positions.c config/json-positions.h \
	config/policy-parse.c \
	config/policy-load.c \
	config/policy-json.c

check_PROGRAMS += tests/test-config
TESTS += tests/test-config
tests_test_config_SOURCES = tests/test-config.c
tests_test_config_CFLAGS = $(TEST_CFLAGS)
tests_test_config_LDADD = $(CONFIG_LIBS) $(TEST_LIBS)

dist_man_MANS += man/memtype.json.5
EXTRA_DIST += tests/fuzz/fuzz-policy.c
