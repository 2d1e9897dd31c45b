# daemon: the libvirt monitor thread (libmtlibvirt.a)
noinst_LIBRARIES += libmtlibvirt.a
libmtlibvirt_a_SOURCES = \
	daemon/libvirt-monitor.c daemon/libvirt-monitor.h \
	daemon/libvirt-queue.c daemon/libvirt-queue.h
libmtlibvirt_a_CFLAGS = $(AM_CFLAGS) $(LIBVIRT_CFLAGS)

# Runs against libvirt's built-in test driver: no libvirtd, no root.
check_PROGRAMS += tests/test-libvirt-monitor
TESTS += tests/test-libvirt-monitor
tests_test_libvirt_monitor_SOURCES = tests/test-libvirt-monitor.c
tests_test_libvirt_monitor_CFLAGS = $(TEST_CFLAGS) $(LIBVIRT_CFLAGS)
tests_test_libvirt_monitor_LDADD = $(LIBVIRT_MON_LIBS) $(TEST_LIBS)
