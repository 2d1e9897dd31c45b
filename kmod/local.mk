# kmod: memtype.ko. Built by Kbuild against a kernel's headers
# (make -C kmod KDIR=..., or DKMS), not by automake: shipped in the
# tarball, tested by `make check-kmod` (tests/kmod/local.mk). The uapi
# header is installed for other userspace that talks to /dev/memtype.
EXTRA_DIST += \
	kmod/Kbuild kmod/Makefile kmod/README kmod/dkms.conf kmod/detect-symbols.sh \
	kmod/memtype_internal.h kmod/memtype_main.c kmod/memtype_table.c \
	kmod/memtype_probes.c kmod/memtype_ioctl.c kmod/memtype_argv.c \
	kmod/memtype_debugfs.c kmod/.gitignore

memtypeincludedir = $(includedir)/memtype
memtypeinclude_HEADERS = kmod/uapi/memtype.h
