noinst_LIBRARIES += libmtpolicy.a
libmtpolicy_a_CFLAGS = $(AM_CFLAGS) $(JSONC_CFLAGS)
libmtpolicy_a_SOURCES = \
	policy/model.c policy/model.h \
	policy/quirks.c \
	policy/overrides.c policy/overrides.h \
	policy/plan-internal.h policy/plan-build.c \
	policy/decide.c policy/decide-devices.c policy/decide-quirks.c \
	policy/invariants.c policy/plan-json.c policy/explain.c \
	policy/plan.h

check_PROGRAMS += tests/test-policy
TESTS += tests/test-policy
tests_test_policy_SOURCES = tests/test-policy.c
tests_test_policy_CFLAGS = $(TEST_CFLAGS)
tests_test_policy_LDADD = $(POLICY_LIBS) $(TEST_LIBS)
