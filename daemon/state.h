/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* What memtyped records of each VM (struct vm_record), the table of them,
 * their JSON forms (the VM type of io.memtype.Manager.varlink, and the state
 * file), and the state file itself: written atomically (temporary file in
 * the same directory, fsync, rename, fsync of the directory), read back
 * after any restart, kill -9 included. */
#pragma once

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include <json-c/json.h>

#include "common/error.h"
#include "policy/model.h"

#define STATE_SCHEMA "memtype.state/1"
#define STATE_PATH_DEFAULT "/var/lib/memtype/state.json"
/* Records kept at most; beyond, new VMs get LimitReached. */
#define STATE_MAX_VMS 4096
/* The state file is refused beyond this size (a corrupt or foreign file). */
#define STATE_FILE_MAX (64 * 1024 * 1024)

enum vm_source {
	VM_SOURCE_LIBVIRT,
	VM_SOURCE_REGISTERED,
	_VM_SOURCE_MAX,
};

enum vm_run_state {
	VM_PREPARED,   /* prepare hook seen; QEMU not spawned */
	VM_STARTING,   /* start hook seen; QEMU about to be spawned */
	VM_RUNNING,
	VM_STOPPED,
	_VM_RUN_STATE_MAX,
};

enum apply_status {
	APPLY_PLANNED,             /* nothing to change: KVM's defaults are the plan */
	APPLY_MODULE_UNAVAILABLE,  /* changes planned, nothing to apply them */
	APPLY_APPLIED,
	APPLY_APPLIED_LATE,
	APPLY_FAILED,
	APPLY_EXPIRED,             /* pending plan of a VM that never started */
	APPLY_PENDING,             /* handed to memtype.ko, for QEMU's VM to come */
	_APPLY_STATUS_MAX,
};

const char *vm_source_to_string(enum vm_source s);
int vm_source_from_string(const char *s);          /* -EINVAL if unknown */
const char *vm_run_state_to_string(enum vm_run_state s);
int vm_run_state_from_string(const char *s);
const char *apply_status_to_string(enum apply_status s);  /* "module-unavailable", ... */
int apply_status_from_string(const char *s);

struct vm_record_text;

struct vm_record {
	char name[MT_NAME_MAX];
	char uuid[MT_UUID_MAX];
	enum vm_source source;
	enum vm_run_state state;
	pid_t pid;                     /* QEMU's pid, 0 when unknown */
	enum apply_status apply;
	char apply_reason[256];
	uint64_t disable_quirks_mask;  /* what the plan disables */
	bool noncoherent_dma;          /* predicted */
	char last_phase[16];           /* last hook phase, "" none */
	uint64_t updated_usec;         /* CLOCK_REALTIME */
	uint64_t expires_usec;         /* CLOCK_REALTIME; a pending plan
					* (prepared/starting) expires then; 0 none */
	/* What the applier read back from memtype.ko; valid only when readback. */
	bool readback;
	uint64_t readback_kvm_mask;     /* bits KVM set itself */
	uint64_t readback_memtype_mask; /* bits memtype set */
	int readback_noncoherent;       /* KVM's non-coherent DMA count */
	char *plan_json;               /* compact memtype.plan/1 text; owned */
	char *xml;                     /* domain XML, kept for registered VMs
					* only (libvirt has the others); owned */
	/* Everything above plan_json is compared byte for byte to decide
	 * whether the state-file text cached below is still the record's;
	 * plan_json and xml are compared by text_gen, which every change of
	 * them bumps (vm_record_set_plan, vm_record_set_xml: do not assign
	 * them elsewhere). */
	unsigned text_gen;
	struct vm_record_text *text;   /* state-file.c's cache; owned */
};

struct vm_record *vm_record_new(void);
struct vm_record *vm_record_free(struct vm_record *r);
DEFINE_TRIVIAL_CLEANUP_FUNC(struct vm_record *, vm_record_free);

/* Replace r's plan with plan (a memtype.plan/1 object, not consumed):
 * stores its compact text and copies disable_quirks_mask and
 * noncoherent_dma from it. */
int vm_record_set_plan(struct vm_record *r, struct json_object *plan);

/* Replace r's XML with a copy of xml (NULL: none). */
int vm_record_set_xml(struct vm_record *r, const char *xml);

/* The VM type of the IDL; with_plan adds "plan" (parsed from plan_json). */
int vm_record_to_json(const struct vm_record *r, bool with_plan, struct json_object **ret);

/* Table of records, by name (libvirt names are unique per host) with
 * lookup by UUID too. At most STATE_MAX_VMS entries. */
struct vm_table {
	struct vm_record **v;
	size_t n, alloc;
};

void vm_table_done(struct vm_table *t);
struct vm_record *vm_table_find(const struct vm_table *t, const char *name_or_uuid);
/* Takes ownership of r on success. -EEXIST for a name already there,
 * -ENOSPC at STATE_MAX_VMS. */
int vm_table_add(struct vm_table *t, struct vm_record *r);
/* Unlink and free the record named name; -ENOENT if none. */
int vm_table_remove(struct vm_table *t, const char *name);

/* Free a record's cached state-file text (state-file.c). */
void state_text_free(struct vm_record_text *text);

/* Write t to path atomically. err names the path and the step that
 * failed; the previous file is untouched on failure. */
int state_save(const char *path, const struct vm_table *t, struct mt_error *err);

/* The same, atomic but without the fsyncs: the new file survives the death
 * of the process (kill -9) at once, and a power loss only after a later
 * state_sync(). memtyped saves this way before it answers a change, and
 * syncs right after the answer is sent, so the fsyncs are off the hook's
 * path. */
int state_save_unsynced(const char *path, const struct vm_table *t, struct mt_error *err);

/* fsync the file at path and its directory. */
int state_sync(const char *path, struct mt_error *err);

/* Read path into t (which must be empty). A missing file gives an empty
 * table and 0. A file that is not a state file at all (not JSON, wrong
 * schema, too big) gives -EBADMSG and err naming why: the caller moves it
 * aside and starts empty. A record that is bad on its own is skipped and
 * counted in *ret_skipped, with err naming the first (the rest is kept:
 * nothing good is lost because of one bad record). */
int state_load(const char *path, struct vm_table *t, unsigned *ret_skipped,
	       struct mt_error *err);
