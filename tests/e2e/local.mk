# end-to-end tests with real libvirtd and QEMU (make check-e2e, as root):
# tests/e2e/run starts virtlogd + libvirtd (tests/e2e/libvirt-env), installs
# the build tree's hook, runs memtyped on temporary paths and starts real
# type='kvm' domains. Not part of "make check": it needs root, /dev/kvm and
# changes /etc/libvirt (restored at the end).

# A second varlink client on raw sockets, for the checks and the flood.
EXTRA_PROGRAMS += tests/e2e/e2e-varlink
tests_e2e_e2e_varlink_SOURCES = tests/e2e/e2e-varlink.c
tests_e2e_e2e_varlink_CFLAGS = $(AM_CFLAGS) $(JSONC_CFLAGS)
tests_e2e_e2e_varlink_LDADD = $(JSONC_LIBS)
CLEANFILES += tests/e2e/e2e-varlink

E2E_FILES = \
	tests/e2e/run \
	tests/e2e/libvirt-env \
	tests/e2e/policy.json \
	tests/e2e/vga.xml \
	tests/e2e/virtio.xml \
	tests/e2e/ivshmem.xml \
	tests/e2e/plain.xml \
	tests/e2e/strict.xml
EXTRA_DIST += $(E2E_FILES)

check-e2e: all tests/json-get tests/e2e/e2e-varlink
	MT_TEST_DIR='$(abs_top_srcdir)/tests' MT_BUILD_DIR='$(abs_top_builddir)' \
		$(srcdir)/tests/e2e/run
.PHONY: check-e2e
