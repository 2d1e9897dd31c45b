# vm: the VM model from libvirt domain XML (libxml2)
noinst_LIBRARIES += libmtvm.a
libmtvm_a_CFLAGS = $(AM_CFLAGS) $(LIBXML_CFLAGS) $(JSONC_CFLAGS)
libmtvm_a_SOURCES = \
	vm/vm.c vm/vm.h \
	vm/vm-devices.c \
	vm/vm-qemu.c \
	vm/vm-json.c \
	vm/vm-util.c vm/vm-internal.h \
	vm/qemu-opts.c vm/qemu-opts.h

check_PROGRAMS += tests/test-vm
TESTS += tests/test-vm
tests_test_vm_SOURCES = tests/test-vm.c
tests_test_vm_CFLAGS = $(TEST_CFLAGS)
tests_test_vm_LDADD = $(VM_LIBS) $(TEST_LIBS)

# libFuzzer harness, built by hand (see the comment at its top).
EXTRA_DIST += tests/fuzz/fuzz-vm-xml.c tests/fuzz/fuzz-vm-xml.dict
