# daemon: memtyped itself (manager, methods, main), and varlink-call, the
# small varlink client the shell tests drive it with.

sbin_PROGRAMS = memtyped
memtyped_SOURCES = \
	daemon/memtyped.c \
	daemon/manager.c daemon/manager.h \
	daemon/manager-libvirt.c \
	daemon/manager-vms.c \
	daemon/methods.c
nodist_memtyped_SOURCES = daemon/idl.c
memtyped_CFLAGS = $(AM_CFLAGS) $(JSONC_CFLAGS) $(LIBXML_CFLAGS) $(LIBPCI_CFLAGS) \
	$(LIBSYSTEMD_CFLAGS) $(LIBVIRT_CFLAGS)
memtyped_LDADD = libmtdaemon.a libmtlibvirt.a $(ALL_LIBS) $(DAEMON_LIBS) $(LIBVIRT_MON_LIBS)

# GetInterfaceDescription serves the IDL file of the repository byte for
# byte: it is compiled in as one C string, one source line per IDL line.
daemon/idl.c: $(top_srcdir)/daemon/io.memtype.Manager.varlink
	$(AM_V_GEN)$(MKDIR_P) daemon && { \
		printf '%s\n' '/* Generated from daemon/io.memtype.Manager.varlink by make: do not edit. */' \
			'#include "daemon/manager.h"' '' 'const char manager_idl[] ='; \
		sed -e 's/\\/\\\\/g' -e 's/"/\\"/g' -e 's/\t/\\t/g' -e 's/^/\t"/' -e 's/$$/\\n"/' $<; \
		printf '\t;\n'; \
	} >$@.tmp && mv $@.tmp $@
CLEANFILES += daemon/idl.c

check_PROGRAMS += tests/varlink-call
tests_varlink_call_SOURCES = tests/varlink-call.c
tests_varlink_call_CFLAGS = $(AM_CFLAGS) $(JSONC_CFLAGS)
tests_varlink_call_LDADD = $(VARLINK_LIBS)

TESTS += tests/test-daemon.sh
EXTRA_DIST += tests/test-daemon.sh
