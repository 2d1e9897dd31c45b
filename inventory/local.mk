# inventory: reads a host root (sysfs, procfs, libpci) or an lspci dump into
# struct host; writes captures; host JSON.
noinst_LIBRARIES += libmtinventory.a
libmtinventory_a_CFLAGS = $(AM_CFLAGS) $(LIBPCI_CFLAGS) $(JSONC_CFLAGS)
libmtinventory_a_SOURCES = \
	inventory/inventory.h inventory/inventory-internal.h \
	inventory/inventory.c \
	inventory/cpu.c \
	inventory/kvm.c \
	inventory/iommu.c \
	inventory/pci.c \
	inventory/capture.c \
	inventory/host-json.c

check_PROGRAMS += tests/test-inventory
TESTS += tests/test-inventory
tests_test_inventory_SOURCES = tests/test-inventory.c
tests_test_inventory_CFLAGS = $(TEST_CFLAGS)
tests_test_inventory_LDADD = $(INVENTORY_LIBS) $(TEST_LIBS)
# libFuzzer harnesses and the script running all of them (not make check)
EXTRA_DIST += tests/fuzz/fuzz-inventory.c tests/fuzz/run-fuzzers
