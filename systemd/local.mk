# systemd units, sysusers, tmpfiles, modules-load: generated from
# systemd/*.in with the configured paths, installed where configure was told
# (--with-systemdsystemunitdir, --with-sysusersdir, --with-tmpfilesdir,
# --with-libvirt-hookdir: the hook's link), and checked by tests/test-units.sh.

systemdsystemunit_DATA = systemd/memtyped.service systemd/memtyped.socket
# sysusers.d and tmpfiles.d want "<package>.conf"; build-tree copies under
# those names let automake install them without install hooks.
sysusers_DATA = systemd/sysusers.d/memtype.conf
tmpfiles_DATA = systemd/tmpfiles.d/memtype.conf
# memtype.ko at boot, before memtyped and libvirtd (a no-op without it).
modulesload_DATA = systemd/modules-load.d/memtype.conf

# @bindir@, @sbindir@ and @pkglibexecdir@ in the sources become the
# expanded install paths.
# A placeholder left over (a typo, or one not listed here) fails the build.
systemd_subst = sed -e 's|@bindir[@]|$(bindir)|g' -e 's|@sbindir[@]|$(sbindir)|g' \
	-e 's|@pkglibexecdir[@]|$(pkglibexecdir)|g'
systemd_generate = $(AM_V_GEN)$(MKDIR_P) $(@D) && \
	$(systemd_subst) $< >$@.tmp && \
	if grep -n '@[a-zA-Z_]*@' $@.tmp; then \
		echo "$<: unknown placeholder (above)" >&2; rm -f $@.tmp; exit 1; \
	fi && mv -f $@.tmp $@

systemd/memtyped.service: $(srcdir)/systemd/memtyped.service.in Makefile
	$(systemd_generate)
systemd/memtyped.socket: $(srcdir)/systemd/memtyped.socket.in Makefile
	$(systemd_generate)
systemd/sysusers.d/memtype.conf: $(srcdir)/systemd/memtype.sysusers Makefile
	$(systemd_generate)
systemd/tmpfiles.d/memtype.conf: $(srcdir)/systemd/memtype.tmpfiles Makefile
	$(systemd_generate)
systemd/modules-load.d/memtype.conf: $(srcdir)/systemd/memtype.modules-load Makefile
	$(systemd_generate)

# The libvirt hook: qemu.d/50-memtype is a symbolic link to memtype-hook.
# libvirt stat()s each entry of qemu.d and runs what is executable, through
# links too (virhook.c); a link rather than a script saves the fork and
# exec of a shell on each of the five hook calls of a VM's life.
install-data-hook: install-libvirt-hook
install-libvirt-hook:
	$(MKDIR_P) '$(DESTDIR)$(libvirthookdir)'
	rm -f '$(DESTDIR)$(libvirthookdir)/50-memtype'
	$(LN_S) '$(pkglibexecdir)/memtype-hook' '$(DESTDIR)$(libvirthookdir)/50-memtype'
uninstall-hook: uninstall-libvirt-hook
uninstall-libvirt-hook:
	rm -f '$(DESTDIR)$(libvirthookdir)/50-memtype'
.PHONY: install-libvirt-hook uninstall-libvirt-hook

CLEANFILES += $(systemdsystemunit_DATA) $(sysusers_DATA) $(tmpfiles_DATA) $(modulesload_DATA)
EXTRA_DIST += systemd/memtyped.service.in systemd/memtyped.socket.in \
	systemd/memtype.sysusers systemd/memtype.tmpfiles systemd/memtype.modules-load

dist_man_MANS += man/memtyped.8

# Needs the generated files above, which `make check` builds first (all).
TESTS += tests/test-units.sh
EXTRA_DIST += tests/test-units.sh
