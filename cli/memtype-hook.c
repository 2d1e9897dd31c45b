/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* memtype-hook NAME PHASE SUBPHASE EXTRA: what /etc/libvirt/hooks/qemu.d/
 * 50-memtype runs. The same hook as `memtypectl libvirt-hook`, in a binary
 * that takes its arguments as libvirt gives them (no option parsing: a
 * domain name may start with '-') and loads only libc and json-c. */
#include <stdio.h>

#include "cli/hook.h"

int main(int argc, char **argv)
{
	if (argc < 3 || argc > 5) {
		fprintf(stderr, "usage: memtype-hook NAME PHASE [SUBPHASE [EXTRA]] < DOMAIN.xml\n"
				"(libvirt's QEMU hook; see memtypectl(8), \"LIBVIRT HOOK\")\n");
		return 2;
	}
	return hook_main(argc - 1, argv + 1, NULL);
}
