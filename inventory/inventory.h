/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Reading a host root (the live "/" or a directory laid out like it, see
 * DESIGN.md "Host root") or an lspci -xxxx dump into struct host. */
#pragma once

#include <stdbool.h>

#include "common/error.h"
#include "policy/model.h"

#define SNAPSHOT_FILE "memtype-snapshot.json"
#define SNAPSHOT_SCHEMA "memtype.snapshot/1"

struct inventory_options {
	const char *root;              /* NULL or "/" for the live host */
	const char *lspci_dump;        /* read PCI from this dump instead of sysfs */
	/* Ask /dev/kvm for KVM_CAP_DISABLE_QUIRKS2. Only ever done when the root
	 * is "/"; other roots use memtype-snapshot.json. */
	bool probe_kvm;
};

/* Read the host. A tree that is partly unreadable still gives a host with
 * partial=true and notes saying what is missing; a tree that is not a host
 * root at all (no sys/bus/pci) is an error. Never exits, never prints. */
int inventory_read(const struct inventory_options *opts, struct host **ret, struct mt_error *err);

void host_free(struct host *h);

/* Write a host root under dir from the live host: the files the inventory
 * reads, plus memtype-snapshot.json. Refuses (-EPERM) a partial live host
 * (e.g. read without CAP_SYS_ADMIN: 64-byte config space). dir must not
 * exist or be empty. */
int inventory_capture(const char *dir, struct mt_error *err);

/* JSON of the host model (memtypectl inventory --json). */
struct json_object;
int host_to_json(const struct host *h, struct json_object **ret);
