# The kernel rig (tests/kmod/rig): memtype.ko built against Debian's 6.12 and
# 6.1 headers and loaded into those kernels booted under QEMU TCG with a
# nested-SVM CPU, where real KVM VMs are created by small static test VMMs
# and by QEMU 7.2 (../shared/KERNEL_RIG.md). Not part of "make check": it
# downloads ~250 MB of Debian packages into /var/cache/memtype-rig on first
# use (MEMTYPE_RIG_CACHE), installs its tools with apt-get when missing (so
# root, the first time), and takes a few minutes. The rig compiles its own
# static programs with gcc -static; nothing here is built by automake.
# Last line of the run: "kmod: N passed, N failed".
#
#   make check-kmod      the tests (three boots: 6.12, 6.12 kvm_amd.npt=0, 6.1)
#   make bench-kmod      bench/kmod-create: VM creation with/without memtype.ko

KMOD_RIG_FILES = \
	tests/kmod/rig \
	tests/kmod/fetch \
	tests/kmod/init.sh \
	tests/kmod/daemon-test.sh \
	tests/kmod/mt-vmm.c \
	tests/kmod/mt-test.c \
	tests/kmod/rig-module.h \
	bench/kmod-create \
	bench/kmod-create-vms.c
EXTRA_DIST += $(KMOD_RIG_FILES)

KMOD_RIG_WORK = $(abs_top_builddir)/tests/kmod/work

# The 6.12 boot also runs memtyped, memtypectl and the hook of this build
# against the module (tests/kmod/daemon-test.sh).
check-kmod: all tests/json-get
	MEMTYPE_RIG_WORK='$(KMOD_RIG_WORK)' MT_BUILD_DIR='$(abs_top_builddir)' \
		$(abs_top_srcdir)/tests/kmod/rig

bench-kmod:
	MEMTYPE_RIG_WORK='$(KMOD_RIG_WORK)' $(abs_top_srcdir)/bench/kmod-create

clean-kmod-rig:
	-rm -rf '$(KMOD_RIG_WORK)'
clean-local: clean-kmod-rig

.PHONY: check-kmod bench-kmod clean-kmod-rig
