# tests: the fixture-root generator (tests/mkroot), its unit test, and the
# check that every committed root under tests/roots is what its description
# generates and reads like a real machine to lspci (owner: fixtures).

check_PROGRAMS += tests/mkroot
tests_mkroot_SOURCES = tests/mkroot.c
tests_mkroot_LDADD = $(COMMON_LIBS)

# Runs tests/mkroot, so it comes after it; reads the roots back with libpci.
check_PROGRAMS += tests/test-mkroot
TESTS += tests/test-mkroot
tests_test_mkroot_SOURCES = tests/test-mkroot.c
tests_test_mkroot_CFLAGS = $(TEST_CFLAGS)
tests_test_mkroot_LDADD = $(COMMON_LIBS) $(LIBPCI_LIBS) $(TEST_LIBS)

TESTS += tests/check-roots.sh
EXTRA_DIST += tests/check-roots.sh
