/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The libvirt QEMU hook, shared by `memtypectl libvirt-hook` and the
 * memtype-hook binary. */
#pragma once

/* argv: NAME PHASE [SUBPHASE [EXTRA]] as libvirt passes them (argc >= 2);
 * the domain XML on stdin. socket: memtyped's socket, NULL for
 * $MEMTYPE_SOCKET or the default. Returns the hook's exit status. */
int hook_main(int argc, char **argv, const char *socket);
