# cli: memtypectl (offline verbs), its man pages, CLI tests and the corpus
# acceptance helpers.

bin_PROGRAMS += memtypectl
memtypectl_SOURCES = \
	cli/memtypectl.c cli/memtypectl.h \
	cli/output.c cli/output.h \
	cli/verb-inventory.c \
	cli/verb-plan.c \
	cli/verb-policy.c
memtypectl_CFLAGS = $(AM_CFLAGS) $(JSONC_CFLAGS) $(LIBXML_CFLAGS) $(LIBPCI_CFLAGS)
memtypectl_LDADD = $(ALL_LIBS)

dist_man_MANS += man/memtypectl.8 man/memtype.7

# Test helpers: json-get reads JSON paths for the shell tests (no jq or
# python on a fresh Debian), compare-lspci checks inventory against lspci.
check_PROGRAMS += tests/json-get tests/acceptance/compare-lspci
tests_json_get_SOURCES = tests/json-get.c
tests_json_get_CFLAGS = $(AM_CFLAGS) $(JSONC_CFLAGS)
tests_json_get_LDADD = $(JSONC_LIBS)
tests_acceptance_compare_lspci_SOURCES = tests/acceptance/compare-lspci.c
tests_acceptance_compare_lspci_CFLAGS = $(AM_CFLAGS) $(JSONC_CFLAGS)
tests_acceptance_compare_lspci_LDADD = $(JSONC_LIBS)

TESTS += tests/test-cli.sh

EXTRA_DIST += tests/test-cli.sh tests/cli-lib.sh tests/cli tests/acceptance/corpus.sh \
	examples .clang-format .editorconfig
