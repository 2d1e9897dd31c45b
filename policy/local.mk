noinst_LIBRARIES += libmtpolicy.a
libmtpolicy_a_CFLAGS = $(AM_CFLAGS) $(JSONC_CFLAGS)
libmtpolicy_a_SOURCES = \
	policy/model.c policy/model.h \
	policy/plan.h
