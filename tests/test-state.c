/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Unit tests of memtyped's records and state file (with plans made by the
 * real policy engine on fixture hosts), the "none" applier, the log and
 * the coalescing of PCI hot-plug events. Files go below $TMPDIR only. */
#include <check.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <json-c/json.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "common/json-util.h"
#include "daemon/applier.h"
#include "daemon/kmod.h"
#include "daemon/hotplug-internal.h"
#include "daemon/log.h"
#include "daemon/state.h"
#include "inventory/inventory.h"
#include "policy/plan.h"
#include "vm/vm.h"

#define QUIRK(name) (UINT64_C(1) << KVM_QUIRK_##name)

/* ----- fixtures: records with plans from real policy_decide() runs -------- */

struct fixture {
	const char *root;     /* under tests/roots */
	const char *xml;      /* under tests/xml */
	uint64_t mask;        /* what the plan disables */
	bool noncoherent;
	const char *warning;  /* a warning code the plan has, or NULL */
	const char *error;    /* an error code the plan has, or NULL */
};

static const struct fixture fixtures[] = {
	/* nothing to change */
	{ "amd-epyc-gpu", "plain.xml", 0, false, NULL, NULL },
	/* venus forced on: IGNORE_GUEST_PAT disabled, with a caution */
	{ "intel-client", "venus-override.xml", QUIRK(IGNORE_GUEST_PAT), false, "display-caution", NULL },
	/* a passed-through GPU this host does not have */
	{ "amd-epyc-gpu", "gpu-passthrough.xml", 0, false, NULL, "device-not-found" },
	/* an integrated GPU without snoop control */
	{ "intel-client", "igpu-passthrough.xml", 0, true, "noncoherent-dma", NULL },
};

static struct json_object *fixture_plan(const struct fixture *f, char *ret_name, char *ret_uuid)
{
	struct inventory_options o = { .root = NULL };
	char root[PATH_MAX], xml[PATH_MAX];
	struct mt_error err = {};
	struct json_object *j = NULL;
	struct host *h = NULL;
	struct vm *vm = NULL;
	struct plan *p;
	int r;

	snprintf(root, sizeof(root), "%s/roots/%s", MT_TEST_DIR, f->root);
	snprintf(xml, sizeof(xml), "%s/xml/%s", MT_TEST_DIR, f->xml);
	o.root = root;
	r = inventory_read(&o, &h, &err);
	ck_assert_msg(r == 0, "inventory_read(%s): %s", root, mt_error_message(&err, r));
	r = vm_parse_xml_file(xml, &vm, &err);
	ck_assert_msg(r == 0, "vm_parse_xml_file(%s): %s", xml, mt_error_message(&err, r));
	p = malloc(sizeof(*p));
	ck_assert_ptr_nonnull(p);
	ck_assert_int_eq(policy_decide(h, vm, NULL, p), 0);
	ck_assert_int_eq(plan_to_json(p, &j), 0);
	memcpy(ret_name, p->vm_name, MT_NAME_MAX);
	memcpy(ret_uuid, p->vm_uuid, MT_UUID_MAX);
	free(p);
	vm_free(vm);
	host_free(h);
	return j;
}

static struct vm_record *fixture_record(const struct fixture *f)
{
	struct vm_record *r = vm_record_new();
	struct json_object *plan;

	ck_assert_ptr_nonnull(r);
	plan = fixture_plan(f, r->name, r->uuid);
	ck_assert_int_eq(vm_record_set_plan(r, plan), 0);
	json_object_put(plan);
	r->source = VM_SOURCE_LIBVIRT;
	r->state = VM_RUNNING;
	r->apply = r->disable_quirks_mask ? APPLY_MODULE_UNAVAILABLE : APPLY_PLANNED;
	r->updated_usec = 1700000000000000ULL;
	return r;
}

/* ----- temporary directories ---------------------------------------------- */

static char tmpdir[PATH_MAX];

static void make_tmpdir(void)
{
	const char *base = getenv("TMPDIR");

	snprintf(tmpdir, sizeof(tmpdir), "%s/test-state.XXXXXX", base && *base ? base : "/tmp");
	ck_assert_ptr_nonnull(mkdtemp(tmpdir));
}

static void remove_tmpdir(void)
{
	DIR *d = opendir(tmpdir);
	struct dirent *de;
	char path[2 * PATH_MAX];

	if (!d)
		return;
	while ((de = readdir(d)))
		if (!streq(de->d_name, ".") && !streq(de->d_name, "..")) {
			snprintf(path, sizeof(path), "%s/%s", tmpdir, de->d_name);
			if (unlink(path) < 0)
				(void)rmdir(path);
		}
	closedir(d);
	(void)rmdir(tmpdir);
}

static void tmp_path(char *buf, size_t size, const char *name)
{
	int n = snprintf(buf, size, "%s/%s", tmpdir, name);

	ck_assert(n > 0 && (size_t)n < size);
}

static unsigned count_temporaries(void)
{
	DIR *d = opendir(tmpdir);
	struct dirent *de;
	unsigned n = 0;

	ck_assert_ptr_nonnull(d);
	while ((de = readdir(d)))
		n += strstr(de->d_name, ".tmp.") != NULL;
	closedir(d);
	return n;
}

static void write_text(const char *path, const char *text, size_t len)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);

	ck_assert_msg(fd >= 0, "cannot create %s", path);
	ck_assert_int_eq(write(fd, text, len), (ssize_t)len);
	close(fd);
}

static char *read_text(const char *path, size_t *ret_len)
{
	struct stat st;
	char *buf;
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	ck_assert_msg(fd >= 0, "cannot open %s", path);
	ck_assert_int_eq(fstat(fd, &st), 0);
	buf = malloc((size_t)st.st_size + 1);
	ck_assert_ptr_nonnull(buf);
	ck_assert_int_eq(read(fd, buf, (size_t)st.st_size), st.st_size);
	buf[st.st_size] = '\0';
	close(fd);
	if (ret_len)
		*ret_len = (size_t)st.st_size;
	return buf;
}

/* ----- string tables -------------------------------------------------------- */

struct string_table {
	const char *what;
	const char *(*to_string)(unsigned v);
	int (*from_string)(const char *s);
	unsigned n;
	const char *sample;      /* one name with its value below */
	int sample_value;
};

static const char *source_name(unsigned v)
{
	return vm_source_to_string((enum vm_source)v);
}

static const char *run_state_name(unsigned v)
{
	return vm_run_state_to_string((enum vm_run_state)v);
}

static const char *apply_name(unsigned v)
{
	return apply_status_to_string((enum apply_status)v);
}

static const struct string_table string_tables[] = {
	{ "source", source_name, vm_source_from_string, _VM_SOURCE_MAX, "registered", VM_SOURCE_REGISTERED },
	{ "state", run_state_name, vm_run_state_from_string, _VM_RUN_STATE_MAX, "starting", VM_STARTING },
	{ "apply", apply_name, apply_status_from_string, _APPLY_STATUS_MAX, "module-unavailable",
	  APPLY_MODULE_UNAVAILABLE },
};

START_TEST(test_string_tables)
{
	const struct string_table *t = &string_tables[_i];

	for (unsigned v = 0; v < t->n; v++) {
		const char *s = t->to_string(v);

		ck_assert_msg(s && *s, "%s %u has no name", t->what, v);
		ck_assert_int_eq(t->from_string(s), (int)v);
	}
	ck_assert_ptr_null(t->to_string(t->n));
	ck_assert_int_eq(t->from_string(t->sample), t->sample_value);
	ck_assert_int_eq(t->from_string("bogus"), -EINVAL);
	ck_assert_int_eq(t->from_string(""), -EINVAL);
	ck_assert_int_eq(t->from_string(NULL), -EINVAL);
}
END_TEST

/* ----- a record in its IDL form ------------------------------------------- */

/* The VM type of io.memtype.Manager.varlink, key by key; a key may be
 * null when nullable. */
struct idl_key {
	const char *name;
	json_type type;
	bool nullable;
};

static const struct idl_key vm_type_keys[] = {
	{ "name", json_type_string, false },
	{ "uuid", json_type_string, false },
	{ "source", json_type_string, false },
	{ "state", json_type_string, false },
	{ "pid", json_type_int, true },
	{ "apply", json_type_string, false },
	{ "apply_reason", json_type_string, true },
	{ "disable_quirks", json_type_array, false },
	{ "disable_quirks_mask", json_type_int, false },
	{ "noncoherent_dma", json_type_boolean, false },
	{ "warnings", json_type_array, false },
	{ "errors", json_type_array, false },
	{ "last_phase", json_type_string, true },
	{ "updated_usec", json_type_int, false },
	{ "readback", json_type_object, true },
	{ "plan", json_type_object, true },
};

static void assert_idl_shape(struct json_object *o, bool with_plan)
{
	ck_assert(json_object_is_type(o, json_type_object));
	for (size_t i = 0; i < ELEMENTSOF(vm_type_keys); i++) {
		const struct idl_key *k = &vm_type_keys[i];
		struct json_object *v = NULL;
		bool present = json_object_object_get_ex(o, k->name, &v);

		if (streq(k->name, "plan") && !with_plan) {
			ck_assert_msg(!present, "plan without with_plan");
			continue;
		}
		ck_assert_msg(present, "key %s missing", k->name);
		ck_assert_msg((v == NULL && k->nullable) || json_object_is_type(v, k->type),
			      "key %s has the wrong type", k->name);
	}
	json_object_object_foreach(o, key, val) {
		bool known = false;

		(void)val;
		for (size_t i = 0; i < ELEMENTSOF(vm_type_keys); i++)
			known |= streq(vm_type_keys[i].name, key);
		ck_assert_msg(known, "key %s is not in the IDL's VM type", key);
	}
}

static bool array_has_string(struct json_object *o, const char *key, const char *s)
{
	struct json_object *a = json_object_object_get(o, key);

	for (size_t i = 0; i < json_object_array_length(a); i++)
		if (streq(json_object_get_string(json_object_array_get_idx(a, i)), s))
			return true;
	return false;
}

START_TEST(test_record_json_fixtures)
{
	const struct fixture *f = &fixtures[_i];
	struct vm_record *r = fixture_record(f);
	struct json_object *o = NULL, *plan;
	char mask_text[24];

	ck_assert_uint_eq(r->disable_quirks_mask, f->mask);
	ck_assert_int_eq(r->noncoherent_dma, f->noncoherent);
	ck_assert_int_eq(vm_record_to_json(r, false, &o), 0);
	assert_idl_shape(o, false);
	ck_assert_str_eq(json_object_get_string(json_object_object_get(o, "name")), r->name);
	ck_assert_str_eq(json_object_get_string(json_object_object_get(o, "uuid")), r->uuid);
	ck_assert_str_eq(json_object_get_string(json_object_object_get(o, "state")), "running");
	ck_assert_uint_eq(json_object_get_uint64(json_object_object_get(o, "disable_quirks_mask")), f->mask);
	ck_assert_uint_eq(json_object_array_length(json_object_object_get(o, "disable_quirks")),
			  (unsigned)__builtin_popcountll(f->mask));
	if (f->mask & QUIRK(IGNORE_GUEST_PAT))
		ck_assert(array_has_string(o, "disable_quirks", "IGNORE_GUEST_PAT"));
	ck_assert_int_eq(json_object_get_boolean(json_object_object_get(o, "noncoherent_dma")), f->noncoherent);
	if (f->warning)
		ck_assert_msg(array_has_string(o, "warnings", f->warning), "no warning %s", f->warning);
	if (f->error)
		ck_assert_msg(array_has_string(o, "errors", f->error), "no error %s", f->error);
	else
		ck_assert_uint_eq(json_object_array_length(json_object_object_get(o, "errors")), 0);
	json_object_put(o);

	ck_assert_int_eq(vm_record_to_json(r, true, &o), 0);
	assert_idl_shape(o, true);
	plan = json_object_object_get(o, "plan");
	ck_assert_str_eq(json_object_get_string(json_object_object_get(plan, "schema")), PLAN_SCHEMA);
	snprintf(mask_text, sizeof(mask_text), "0x%llx", (unsigned long long)f->mask);
	ck_assert_str_eq(json_object_get_string(json_object_object_get(plan, "disable_quirks_mask")),
			 mask_text);
	json_object_put(o);
	vm_record_free(r);
}
END_TEST

START_TEST(test_record_json_optional_fields)
{
	struct vm_record *r = fixture_record(&fixtures[1]);
	struct json_object *o = NULL, *rb;

	/* Unset: nulls. */
	ck_assert_int_eq(vm_record_to_json(r, false, &o), 0);
	ck_assert(json_object_object_get_ex(o, "pid", NULL));
	ck_assert_ptr_null(json_object_object_get(o, "pid"));
	ck_assert_ptr_null(json_object_object_get(o, "last_phase"));
	ck_assert_ptr_null(json_object_object_get(o, "apply_reason"));
	ck_assert_ptr_null(json_object_object_get(o, "readback"));
	json_object_put(o);

	r->pid = 4242;
	snprintf(r->last_phase, sizeof(r->last_phase), "started");
	snprintf(r->apply_reason, sizeof(r->apply_reason), "memtype.ko is not loaded");
	r->readback = true;
	r->readback_kvm_mask = QUIRK(CD_NW_CLEARED);
	r->readback_memtype_mask = QUIRK(IGNORE_GUEST_PAT);
	r->readback_noncoherent = 2;
	ck_assert_int_eq(vm_record_to_json(r, false, &o), 0);
	assert_idl_shape(o, false);
	ck_assert_int_eq(json_object_get_int(json_object_object_get(o, "pid")), 4242);
	ck_assert_str_eq(json_object_get_string(json_object_object_get(o, "last_phase")), "started");
	ck_assert_str_eq(json_object_get_string(json_object_object_get(o, "apply")), "module-unavailable");
	ck_assert_str_eq(json_object_get_string(json_object_object_get(o, "apply_reason")),
			 "memtype.ko is not loaded");
	rb = json_object_object_get(o, "readback");
	ck_assert_uint_eq(json_object_get_uint64(json_object_object_get(rb, "kvm_mask")), QUIRK(CD_NW_CLEARED));
	ck_assert_uint_eq(json_object_get_uint64(json_object_object_get(rb, "memtype_mask")),
			  QUIRK(IGNORE_GUEST_PAT));
	ck_assert_int_eq(json_object_get_int(json_object_object_get(rb, "noncoherent")), 2);
	json_object_put(o);

	/* A record with no plan yet still has the VM type's shape. */
	free(r->plan_json);
	r->plan_json = NULL;
	ck_assert_int_eq(vm_record_to_json(r, true, &o), 0);
	assert_idl_shape(o, true);
	ck_assert_uint_eq(json_object_array_length(json_object_object_get(o, "warnings")), 0);
	json_object_put(o);

	r->state = _VM_RUN_STATE_MAX;
	ck_assert_int_eq(vm_record_to_json(r, false, &o), -EINVAL);
	vm_record_free(r);
}
END_TEST

static const char *const bad_plans[] = {
	"[]",
	"\"a string\"",
	"{\"disable_quirks_mask\":\"0x200\",\"noncoherent_dma\":false}",
	"{\"schema\":\"memtype.plan/2\",\"disable_quirks_mask\":\"0x200\",\"noncoherent_dma\":false}",
	"{\"schema\":\"memtype.plan/1\",\"noncoherent_dma\":false}",
	"{\"schema\":\"memtype.plan/1\",\"disable_quirks_mask\":512,\"noncoherent_dma\":false}",
	"{\"schema\":\"memtype.plan/1\",\"disable_quirks_mask\":\"0x\",\"noncoherent_dma\":false}",
	"{\"schema\":\"memtype.plan/1\",\"disable_quirks_mask\":\"0x2zz\",\"noncoherent_dma\":false}",
	"{\"schema\":\"memtype.plan/1\",\"disable_quirks_mask\":\"0x200\",\"noncoherent_dma\":1}",
	"{\"schema\":\"memtype.plan/1\",\"disable_quirks_mask\":\"0x10000000000000000\",\"noncoherent_dma\":false}",
};

START_TEST(test_set_plan_rejects)
{
	struct vm_record *r = fixture_record(&fixtures[1]);
	char *before = strdup(r->plan_json);
	struct json_object *bad = json_tokener_parse(bad_plans[_i]);

	ck_assert_ptr_nonnull(bad);
	ck_assert_int_eq(vm_record_set_plan(r, bad), -EINVAL);
	/* The record keeps the plan it had. */
	ck_assert_str_eq(r->plan_json, before);
	ck_assert_uint_eq(r->disable_quirks_mask, QUIRK(IGNORE_GUEST_PAT));
	json_object_put(bad);
	free(before);
	vm_record_free(r);
}
END_TEST

/* ----- the table ------------------------------------------------------------ */

static struct vm_record *named_record(const char *name, const char *uuid)
{
	struct vm_record *r = vm_record_new();

	ck_assert_ptr_nonnull(r);
	snprintf(r->name, sizeof(r->name), "%s", name);
	snprintf(r->uuid, sizeof(r->uuid), "%s", uuid);
	return r;
}

START_TEST(test_table)
{
	struct vm_table t = {};
	struct vm_record *dup = named_record("alpha", "00000000-0000-0000-0000-00000000000b");

	ck_assert_int_eq(vm_table_add(&t, named_record("alpha", "6f0a1c9e-3b7d-4e2a-9c41-8d5e2f7a1b30")), 0);
	ck_assert_int_eq(vm_table_add(&t, named_record("beta", "836aafc9-f4bc-4b9b-ae0d-9faebdcd2be8")), 0);
	ck_assert_int_eq(vm_table_add(&t, dup), -EEXIST);
	vm_record_free(dup);
	ck_assert_uint_eq(t.n, 2);

	ck_assert_str_eq(vm_table_find(&t, "beta")->name, "beta");
	ck_assert_str_eq(vm_table_find(&t, "6F0A1C9E-3B7D-4E2A-9C41-8D5E2F7A1B30")->name, "alpha");
	ck_assert_ptr_null(vm_table_find(&t, "gamma"));
	ck_assert_ptr_null(vm_table_find(&t, ""));
	ck_assert_ptr_null(vm_table_find(&t, NULL));

	ck_assert_int_eq(vm_table_remove(&t, "alpha"), 0);
	ck_assert_int_eq(vm_table_remove(&t, "alpha"), -ENOENT);
	ck_assert_uint_eq(t.n, 1);
	ck_assert_str_eq(t.v[0]->name, "beta");
	dup = named_record("", "");
	ck_assert_int_eq(vm_table_add(&t, dup), -EINVAL);
	vm_record_free(dup);
	vm_table_done(&t);
	ck_assert_uint_eq(t.n, 0);
	ck_assert_ptr_null(t.v);
}
END_TEST

START_TEST(test_table_limit)
{
	struct vm_table t = {};
	struct vm_record *extra = named_record("one-too-many", "");
	char name[32];

	for (unsigned i = 0; i < STATE_MAX_VMS; i++) {
		snprintf(name, sizeof(name), "vm%u", i);
		ck_assert_int_eq(vm_table_add(&t, named_record(name, "")), 0);
	}
	ck_assert_int_eq(vm_table_add(&t, extra), -ENOSPC);
	ck_assert_str_eq(vm_table_find(&t, "vm4095")->name, "vm4095");
	vm_record_free(extra);
	vm_table_done(&t);
}
END_TEST

/* ----- save and load -------------------------------------------------------- */

static void fill_table(struct vm_table *t, unsigned n)
{
	for (unsigned i = 0; i < n; i++) {
		struct vm_record *r = fixture_record(&fixtures[i % ELEMENTSOF(fixtures)]);

		r->pid = (pid_t)(1000 + i);
		r->state = (enum vm_run_state)(i % _VM_RUN_STATE_MAX);
		r->expires_usec = i ? 1700000300000000ULL + i : 0;
		snprintf(r->last_phase, sizeof(r->last_phase), "%s", i % 2 ? "prepare" : "started");
		if (i == 1) {
			r->source = VM_SOURCE_REGISTERED;
			r->xml = strdup("<domain type='kvm'><name>venus-override</name></domain>");
			snprintf(r->apply_reason, sizeof(r->apply_reason), "IGNORE_GUEST_PAT stays enabled");
		}
		if (i == 2) {
			r->readback = true;
			r->readback_kvm_mask = QUIRK(CD_NW_CLEARED);
			r->readback_memtype_mask = UINT64_C(1) << 63;
			r->readback_noncoherent = 1;
		}
		ck_assert_int_eq(vm_table_add(t, r), 0);
	}
}

static void assert_same_plan(const char *a, const char *b)
{
	struct json_object *ja = json_tokener_parse(a), *jb = json_tokener_parse(b);

	ck_assert_ptr_nonnull(ja);
	ck_assert_ptr_nonnull(jb);
	ck_assert_msg(json_object_equal(ja, jb), "plan changed on the way through the file");
	json_object_put(ja);
	json_object_put(jb);
}

static void assert_same_record(const struct vm_record *a, const struct vm_record *b)
{
	ck_assert_str_eq(a->name, b->name);
	ck_assert_str_eq(a->uuid, b->uuid);
	ck_assert_int_eq(a->source, b->source);
	ck_assert_int_eq(a->state, b->state);
	ck_assert_int_eq(a->pid, b->pid);
	ck_assert_int_eq(a->apply, b->apply);
	ck_assert_str_eq(a->apply_reason, b->apply_reason);
	ck_assert_uint_eq(a->disable_quirks_mask, b->disable_quirks_mask);
	ck_assert_int_eq(a->noncoherent_dma, b->noncoherent_dma);
	ck_assert_str_eq(a->last_phase, b->last_phase);
	ck_assert_uint_eq(a->updated_usec, b->updated_usec);
	ck_assert_uint_eq(a->expires_usec, b->expires_usec);
	ck_assert_int_eq(a->readback, b->readback);
	ck_assert_uint_eq(a->readback_kvm_mask, b->readback_kvm_mask);
	ck_assert_uint_eq(a->readback_memtype_mask, b->readback_memtype_mask);
	ck_assert_int_eq(a->readback_noncoherent, b->readback_noncoherent);
	assert_same_plan(a->plan_json, b->plan_json);
	ck_assert_int_eq(!a->xml, !b->xml);
	if (a->xml)
		ck_assert_str_eq(a->xml, b->xml);
}

/* Saves keep each record's text from the last save until the record
 * changes: every kind of change (scalars assigned in place, a new plan, a
 * new XML) must reach the next save. */
START_TEST(test_save_after_changes)
{
	struct vm_table saved = {}, loaded = {};
	struct vm_record *other = fixture_record(&fixtures[ELEMENTSOF(fixtures) - 1]);
	struct json_object *plan;
	struct mt_error err = {};
	unsigned skipped;
	char path[PATH_MAX];

	make_tmpdir();
	tmp_path(path, sizeof(path), "state.json");
	fill_table(&saved, 4);
	ck_assert_int_eq(state_save(path, &saved, &err), 0);
	saved.v[0]->state = VM_STOPPED;
	saved.v[0]->pid = 4321;
	snprintf(saved.v[0]->apply_reason, sizeof(saved.v[0]->apply_reason), "changed");
	ck_assert_int_eq(vm_record_set_xml(saved.v[1], "<domain><name>x</name></domain>"), 0);
	plan = json_tokener_parse(other->plan_json);
	ck_assert_ptr_nonnull(plan);
	ck_assert_str_ne(saved.v[2]->plan_json, other->plan_json);
	ck_assert_int_eq(vm_record_set_plan(saved.v[2], plan), 0);
	saved.v[3]->readback = !saved.v[3]->readback;
	ck_assert_int_eq(state_save_unsynced(path, &saved, &err), 0);
	ck_assert_int_eq(state_load(path, &loaded, &skipped, &err), 0);
	ck_assert_uint_eq(loaded.n, saved.n);
	for (size_t i = 0; i < saved.n; i++)
		assert_same_record(saved.v[i], loaded.v[i]);
	json_object_put(plan);
	vm_record_free(other);
	vm_table_done(&saved);
	vm_table_done(&loaded);
}
END_TEST

static const unsigned round_trip_sizes[] = { 0, 1, 3, 4 };

START_TEST(test_save_load_round_trip)
{
	struct vm_table saved = {}, loaded = {};
	struct mt_error err = {};
	unsigned skipped = 99;
	char path[PATH_MAX];
	int r;

	make_tmpdir();
	tmp_path(path, sizeof(path), "state.json");
	fill_table(&saved, round_trip_sizes[_i]);
	r = state_save(path, &saved, &err);
	ck_assert_msg(r == 0, "state_save: %s", mt_error_message(&err, r));
	ck_assert_uint_eq(count_temporaries(), 0);
	r = state_load(path, &loaded, &skipped, &err);
	ck_assert_msg(r == 0, "state_load: %s", mt_error_message(&err, r));
	ck_assert_int_eq(err.code, 0);
	ck_assert_uint_eq(skipped, 0);
	ck_assert_uint_eq(loaded.n, saved.n);
	for (size_t i = 0; i < saved.n; i++)
		assert_same_record(saved.v[i], loaded.v[i]);
	/* Saving over an existing file replaces it. */
	vm_table_remove(&saved, saved.n ? saved.v[0]->name : "");
	ck_assert_int_eq(state_save(path, &saved, &err), 0);
	vm_table_done(&loaded);
	ck_assert_int_eq(state_load(path, &loaded, &skipped, &err), 0);
	ck_assert_uint_eq(loaded.n, saved.n);
	vm_table_done(&saved);
	vm_table_done(&loaded);
	remove_tmpdir();
}
END_TEST

START_TEST(test_state_file_shape)
{
	struct vm_table t = {};
	struct mt_error err = {};
	struct json_object *doc, *vms, *rec;
	char path[PATH_MAX], *text;

	make_tmpdir();
	tmp_path(path, sizeof(path), "state.json");
	fill_table(&t, 2);
	ck_assert_int_eq(state_save(path, &t, &err), 0);
	text = read_text(path, NULL);
	doc = json_tokener_parse(text);
	ck_assert_ptr_nonnull(doc);
	ck_assert_str_eq(json_object_get_string(json_object_object_get(doc, "schema")), STATE_SCHEMA);
	vms = json_object_object_get(doc, "vms");
	ck_assert_uint_eq(json_object_array_length(vms), 2);
	/* The plan is an object in the file, not a string holding JSON. */
	rec = json_object_array_get_idx(vms, 0);
	ck_assert(json_object_is_type(json_object_object_get(rec, "plan"), json_type_object));
	ck_assert(json_object_is_type(json_object_object_get(rec, "expires_usec"), json_type_int));
	ck_assert(!json_object_object_get_ex(rec, "xml", NULL));
	/* Only a registered VM's XML is kept. */
	rec = json_object_array_get_idx(vms, 1);
	ck_assert_str_eq(json_object_get_string(json_object_object_get(rec, "source")), "registered");
	ck_assert(json_object_is_type(json_object_object_get(rec, "xml"), json_type_string));
	json_object_put(doc);
	free(text);
	vm_table_done(&t);
	remove_tmpdir();
}
END_TEST

START_TEST(test_load_missing_file)
{
	struct vm_table t = {};
	struct mt_error err = {};
	unsigned skipped = 99;
	char path[PATH_MAX];

	make_tmpdir();
	tmp_path(path, sizeof(path), "never-written.json");
	ck_assert_int_eq(state_load(path, &t, &skipped, &err), 0);
	ck_assert_uint_eq(t.n, 0);
	ck_assert_uint_eq(skipped, 0);
	ck_assert_int_eq(err.code, 0);
	remove_tmpdir();
}
END_TEST

/* The daemon's path: saved without fsync before the answer, synced after;
 * what is read back is the same either way, and syncing a missing file
 * names it. */
START_TEST(test_save_unsynced_then_sync)
{
	struct vm_table t = {}, back = {};
	struct mt_error err = {};
	unsigned skipped = 99;
	char path[PATH_MAX], missing[PATH_MAX];

	make_tmpdir();
	tmp_path(path, sizeof(path), "state.json");
	tmp_path(missing, sizeof(missing), "absent.json");
	ck_assert_int_eq(vm_table_add(&t, named_record("alpha", "6f0a1c9e-3b7d-4e2a-9c41-8d5e2f7a1b30")), 0);
	ck_assert_int_eq(vm_table_add(&t, named_record("beta", "836aafc9-f4bc-4b9b-ae0d-9faebdcd2be8")), 0);
	ck_assert_int_eq(state_save_unsynced(path, &t, &err), 0);
	ck_assert_int_eq(state_load(path, &back, &skipped, &err), 0);
	ck_assert_uint_eq(back.n, 2);
	ck_assert_uint_eq(skipped, 0);
	ck_assert_ptr_nonnull(vm_table_find(&back, "beta"));
	ck_assert_int_eq(state_sync(path, &err), 0);
	ck_assert_int_eq(state_sync(missing, &err), -ENOENT);
	ck_assert_ptr_nonnull(strstr(err.message, "absent.json"));
	vm_table_done(&t);
	vm_table_done(&back);
	remove_tmpdir();
}
END_TEST

START_TEST(test_load_needs_empty_table)
{
	struct vm_table t = {};
	struct mt_error err = {};
	char path[PATH_MAX];

	make_tmpdir();
	tmp_path(path, sizeof(path), "state.json");
	ck_assert_int_eq(vm_table_add(&t, named_record("a", "")), 0);
	ck_assert_int_eq(state_load(path, &t, NULL, &err), -EINVAL);
	ck_assert_uint_eq(t.n, 1);
	vm_table_done(&t);
	remove_tmpdir();
}
END_TEST

/* Files that are no state file at all. */
struct corrupt_case {
	const char *what;
	const char *text;        /* NULL: built by the test */
	const char *message;     /* in err */
};

static const struct corrupt_case corrupt_cases[] = {
	{ "truncated", NULL, "ends early" },
	{ "garbage", "\x01\xff\xfe garbage \x7f", "not JSON" },
	{ "empty", "", "ends early" },
	{ "wrong schema", "{\"schema\":\"memtype.state/2\",\"vms\":[]}", "schema is not" },
	{ "no schema", "{\"vms\":[]}", "schema is not" },
	{ "array", "[{\"schema\":\"memtype.state/1\",\"vms\":[]}]", "not a JSON object" },
	{ "vms not an array", "{\"schema\":\"memtype.state/1\",\"vms\":{}}", "\"vms\" is not an array" },
	{ "trailing bytes", "{\"schema\":\"memtype.state/1\",\"vms\":[]} {}", "garbage after" },
	{ "70 MiB", NULL, "more than" },
};

START_TEST(test_load_corrupt)
{
	const struct corrupt_case *c = &corrupt_cases[_i];
	struct vm_table t = {};
	struct mt_error err = {};
	unsigned skipped = 99;
	char path[PATH_MAX];
	int r;

	make_tmpdir();
	tmp_path(path, sizeof(path), "state.json");
	if (c->text) {
		write_text(path, c->text, strlen(c->text));
	} else if (strstr(c->what, "MiB")) {
		int fd = open(path, O_WRONLY | O_CREAT | O_CLOEXEC, 0644);

		ck_assert_int_ge(fd, 0);
		/* Sparse: no 70 MiB written to the disk. */
		ck_assert_int_eq(ftruncate(fd, 70 * 1024 * 1024), 0);
		close(fd);
	} else {
		struct vm_table good = {};
		size_t len;
		char *text;

		fill_table(&good, 2);
		ck_assert_int_eq(state_save(path, &good, &err), 0);
		vm_table_done(&good);
		text = read_text(path, &len);
		write_text(path, text, len / 2);
		free(text);
	}
	r = state_load(path, &t, &skipped, &err);
	ck_assert_msg(r == -EBADMSG, "%s: got %d", c->what, r);
	ck_assert_msg(strstr(err.message, c->message) && strstr(err.message, path),
		      "%s: message \"%s\" does not say \"%s\" about the path", c->what, err.message,
		      c->message);
	/* Table untouched. */
	ck_assert_uint_eq(t.n, 0);
	ck_assert_ptr_null(t.v);
	ck_assert_uint_eq(skipped, 99);
	remove_tmpdir();
}
END_TEST

/* One bad record among good ones: it goes, the others stay. */
struct bad_record_case {
	const char *what;
	const char *key;         /* set key of record 1 to value */
	const char *value;       /* JSON text; NULL: delete key */
	const char *message;
};

static const struct bad_record_case bad_record_cases[] = {
	{ "bad uuid", "uuid", "\"6f0a1c9e-3b7d-4e2a-9c41-8d5e2f7a1b3\"", "uuid is not a UUID" },
	{ "uuid with no dashes", "uuid", "\"6f0a1c9e3b7d4e2a9c418d5e2f7a1b30\"", "uuid is not a UUID" },
	{ "uuid with a dash astray", "uuid", "\"6f0a1c9e3-b7d-4e2a-9c41-8d5e2f7a1b30\"", "uuid is not a UUID" },
	{ "uuid of 36 digits", "uuid", "\"6f0a1c9e03b7d04e2a09c4108d5e2f7a1b30\"", "uuid is not a UUID" },
	{ "uuid not hex", "uuid", "\"6f0a1c9e-3b7d-4e2a-9c41-8d5e2f7a1bzz\"", "uuid is not a UUID" },
	{ "unknown state", "state", "\"sleeping\"", "state is not a known run state" },
	{ "unknown source", "source", "\"xen\"", "source is not" },
	{ "unknown apply", "apply", "\"maybe\"", "apply is not a known apply status" },
	{ "plan a string", "plan", "\"{}\"", "plan is not an object" },
	{ "plan of another schema", "plan", "{\"schema\":\"x\"}", "plan is not a memtype.plan/1" },
	{ "name missing", "name", NULL, "name is missing" },
	{ "name empty", "name", "\"\"", "name is empty" },
	{ "name too long", "name", NULL, "name is too long" },
	{ "name a number", "name", "7", "name is not a string" },
	{ "negative pid", "pid", "-5", "pid is out of range" },
	{ "huge pid", "pid", "99999999999", "pid is out of range" },
	{ "negative time", "updated_usec", "-1", "updated_usec is negative" },
	{ "phase too long", "last_phase", "\"prepare-prepare-prepare\"", "last_phase is too long" },
	{ "readback incomplete", "readback", "{\"kvm_mask\":1}", "readback needs" },
	{ "record a string", NULL, "\"vm\"", "is not an object" },
	{ "duplicate name", "name", NULL, "duplicate name" },
};

static void corrupt_record(const struct bad_record_case *c, struct json_object *vms)
{
	struct json_object *rec = json_object_array_get_idx(vms, 1);

	if (!c->key) {
		json_object_array_put_idx(vms, 1, json_tokener_parse(c->value));
	} else if (streq(c->what, "duplicate name")) {
		json_object_object_add(rec, "name",
				       json_object_get(json_object_object_get(json_object_array_get_idx(vms, 0), "name")));
	} else if (streq(c->what, "name too long")) {
		char name[MT_NAME_MAX + 1];

		memset(name, 'x', MT_NAME_MAX);
		name[MT_NAME_MAX] = '\0';
		json_object_object_add(rec, "name", json_object_new_string(name));
	} else if (!c->value) {
		json_object_object_del(rec, c->key);
	} else {
		struct json_object *v = json_tokener_parse(c->value);

		ck_assert_msg(v || streq(c->value, "null"), "bad test value %s", c->value);
		json_object_object_add(rec, c->key, v);
	}
}

START_TEST(test_load_bad_record)
{
	const struct bad_record_case *c = &bad_record_cases[_i];
	struct vm_table good = {}, t = {};
	struct json_object *doc;
	struct mt_error err = {};
	unsigned skipped = 0;
	char path[PATH_MAX], *text;

	make_tmpdir();
	tmp_path(path, sizeof(path), "state.json");
	fill_table(&good, 3);
	ck_assert_int_eq(state_save(path, &good, &err), 0);
	text = read_text(path, NULL);
	doc = json_tokener_parse(text);
	free(text);
	corrupt_record(c, json_object_object_get(doc, "vms"));
	text = strdup(json_object_to_json_string_ext(doc, JSON_C_TO_STRING_PLAIN));
	write_text(path, text, strlen(text));
	free(text);
	json_object_put(doc);

	ck_assert_int_eq(state_load(path, &t, &skipped, &err), 0);
	ck_assert_uint_eq(skipped, 1);
	ck_assert_uint_eq(t.n, 2);
	assert_same_record(good.v[0], t.v[0]);
	assert_same_record(good.v[2], t.v[1]);
	ck_assert_msg(strstr(err.message, "record 1 (") && strstr(err.message, c->message) &&
		      strstr(err.message, path),
		      "%s: message \"%s\" does not name record 1 and \"%s\"", c->what, err.message, c->message);
	vm_table_done(&good);
	vm_table_done(&t);
	remove_tmpdir();
}
END_TEST

START_TEST(test_load_ignores_unknown_keys)
{
	const char *text = "{\"schema\":\"memtype.state/1\",\"from_the_future\":1,\"vms\":["
			   "{\"name\":\"a\",\"uuid\":\"\",\"source\":\"registered\",\"state\":\"stopped\","
			   "\"apply\":\"expired\",\"new_key\":[1,2],\"pid\":null,\"plan\":null}]}";
	struct vm_table t = {};
	struct mt_error err = {};
	unsigned skipped = 99;
	char path[PATH_MAX];

	make_tmpdir();
	tmp_path(path, sizeof(path), "state.json");
	write_text(path, text, strlen(text));
	ck_assert_int_eq(state_load(path, &t, &skipped, &err), 0);
	ck_assert_uint_eq(skipped, 0);
	ck_assert_uint_eq(t.n, 1);
	ck_assert_int_eq(t.v[0]->apply, APPLY_EXPIRED);
	ck_assert_int_eq(t.v[0]->source, VM_SOURCE_REGISTERED);
	ck_assert_ptr_null(t.v[0]->plan_json);
	vm_table_done(&t);
	remove_tmpdir();
}
END_TEST

static void assert_save_fails(const char *path, const struct vm_table *t, const char *step)
{
	struct mt_error err = {};
	int r = state_save(path, t, &err);

	ck_assert_int_lt(r, 0);
	ck_assert_msg(strstr(err.message, path) && strstr(err.message, step),
		      "message \"%s\" does not name %s and the step \"%s\"", err.message, path, step);
}

START_TEST(test_save_failures)
{
	struct vm_table t = {};
	struct mt_error err = {};
	char path[PATH_MAX], dir_path[PATH_MAX], *before, *after;

	make_tmpdir();
	fill_table(&t, 2);

	/* No such directory. */
	tmp_path(path, sizeof(path), "missing/state.json");
	assert_save_fails(path, &t, "create a temporary file");

	/* A directory where the file should be: the rename fails. */
	tmp_path(dir_path, sizeof(dir_path), "state-dir");
	ck_assert_int_eq(mkdir(dir_path, 0755), 0);
	assert_save_fails(dir_path, &t, "rename");
	ck_assert_uint_eq(count_temporaries(), 0);

	/* A write that fails half way (a full disk, as far as the writer can
	 * tell): the old file stays as it was. */
	tmp_path(path, sizeof(path), "state.json");
	vm_table_remove(&t, t.v[1]->name);
	ck_assert_int_eq(state_save(path, &t, &err), 0);
	before = read_text(path, NULL);
	vm_table_done(&t);
	fill_table(&t, 4);
	signal(SIGXFSZ, SIG_IGN);
	ck_assert_int_eq(setrlimit(RLIMIT_FSIZE, &(struct rlimit){ .rlim_cur = 512, .rlim_max = RLIM_INFINITY }), 0);
	assert_save_fails(path, &t, "write");
	ck_assert_int_eq(setrlimit(RLIMIT_FSIZE, &(struct rlimit){ .rlim_cur = RLIM_INFINITY, .rlim_max = RLIM_INFINITY }), 0);
	after = read_text(path, NULL);
	ck_assert_str_eq(before, after);
	ck_assert_uint_eq(count_temporaries(), 0);

	/* A read-only directory, for those tests that do not run as root. */
	if (geteuid() != 0) {
		ck_assert_int_eq(chmod(tmpdir, 0555), 0);
		assert_save_fails(path, &t, "create a temporary file");
		ck_assert_int_eq(chmod(tmpdir, 0755), 0);
		free(after);
		after = read_text(path, NULL);
		ck_assert_str_eq(before, after);
	}
	free(before);
	free(after);
	vm_table_done(&t);
	remove_tmpdir();
}
END_TEST

/* ----- the "none" applier --------------------------------------------------- */

struct applier_case {
	uint64_t mask;
	enum apply_status status;
	const char *quirks;      /* the reason begins with them */
};

static const struct applier_case applier_cases[] = {
	{ 0, APPLY_PLANNED, NULL },
	{ QUIRK(IGNORE_GUEST_PAT), APPLY_MODULE_UNAVAILABLE, "IGNORE_GUEST_PAT stays enabled: " },
	{ QUIRK(CD_NW_CLEARED) | QUIRK(IGNORE_GUEST_PAT), APPLY_MODULE_UNAVAILABLE,
	  "CD_NW_CLEARED, IGNORE_GUEST_PAT stay enabled: " },
	{ UINT64_C(1) << 40, APPLY_MODULE_UNAVAILABLE, "BIT_40 stays enabled: " },
};

/* Each applier where it cannot act, and why it says so: "none" always;
 * "memtype.ko" with no device, and with a device that is not memtype's
 * (a regular file: its ioctls fail). */
enum applier_kind { APPLIER_NONE, APPLIER_KMOD_ABSENT, APPLIER_KMOD_FOREIGN, _APPLIER_KIND_MAX };

static void make_applier(enum applier_kind kind, struct applier *a, char *why, size_t size)
{
	char path[PATH_MAX];

	switch (kind) {
	case APPLIER_NONE:
		ck_assert_int_eq(applier_none_new(a), 0);
		ck_assert_str_eq(a->ops->name, "none");
		snprintf(why, size, "memtyped runs without memtype.ko");
		return;
	case APPLIER_KMOD_ABSENT:
		tmp_path(path, sizeof(path), "no-memtype-device");
		ck_assert_int_eq(setenv("MEMTYPE_DEVICE", path, 1), 0);
		snprintf(why, size, "memtype.ko is not loaded (no %s)", path);
		break;
	case APPLIER_KMOD_FOREIGN:
		tmp_path(path, sizeof(path), "not-a-device");
		write_text(path, "", 0);
		ck_assert_int_eq(setenv("MEMTYPE_DEVICE", path, 1), 0);
		snprintf(why, size, "%s: GET_INFO: %s", path, strerror(ENOTTY));
		break;
	default:
		ck_abort();
	}
	ck_assert_int_eq(applier_kmod_new(0, false, a), 0);
	ck_assert_str_eq(a->ops->name, "memtype.ko");
}

START_TEST(test_applier_unavailable)
{
	const struct applier_case *c = &applier_cases[_i % ELEMENTSOF(applier_cases)];
	enum applier_kind kind = _i / ELEMENTSOF(applier_cases);
	struct applier a = {};
	struct plan *p = calloc(1, sizeof(*p));
	struct apply_result res;
	char why[PATH_MAX + 128], reason[PATH_MAX + 256];

	ck_assert_ptr_nonnull(p);
	make_applier(kind, &a, why, sizeof(why));
	p->disable_quirks_mask = c->mask;
	snprintf(p->vm_uuid, sizeof(p->vm_uuid), "6f0a1c9e-3b7d-4e2a-9c41-8d5e2f7a1b30");
	snprintf(reason, sizeof(reason), "%s%s", c->quirks ? c->quirks : "", c->quirks ? why : "");

	memset(&res, 0xaa, sizeof(res));
	ck_assert_int_eq(a.ops->set_pending(a.ctx, p, 300 * 1000000ULL, &res), 0);
	ck_assert_int_eq(res.status, c->status);
	ck_assert(!res.readback);
	ck_assert_str_eq(res.reason, reason);
	memset(&res, 0xaa, sizeof(res));
	ck_assert_int_eq(a.ops->read_back(a.ctx, p, 1234, &res), 0);
	ck_assert_int_eq(res.status, c->status);
	ck_assert_str_eq(res.reason, reason);
	memset(&res, 0xaa, sizeof(res));
	ck_assert_int_eq(a.ops->apply_late(a.ctx, p, 1234, &res), 0);
	ck_assert_int_eq(res.status, c->status);
	ck_assert(!res.readback);
	ck_assert_int_eq(a.ops->forget(a.ctx, p->vm_uuid), 0);

	ck_assert_int_eq(a.ops->set_pending(a.ctx, NULL, 0, &res), -EINVAL);
	applier_done(&a);
	ck_assert_ptr_null(a.ops);
	applier_done(&a);
	unsetenv("MEMTYPE_DEVICE");
	free(p);
}
END_TEST

START_TEST(test_applier_available)
{
	enum applier_kind kind = _i;
	struct applier a = {};
	char why[PATH_MAX + 128], reason[PATH_MAX + 128] = "unset";

	make_applier(kind, &a, why, sizeof(why));
	ck_assert(!a.ops->available(a.ctx, reason, sizeof(reason)));
	if (kind == APPLIER_NONE)
		ck_assert_str_eq(reason, "memtyped runs without memtype.ko (--no-module)");
	else
		ck_assert_str_eq(reason, why);
	applier_done(&a);
	unsetenv("MEMTYPE_DEVICE");
}
END_TEST

/* memtype.ko's UUIDs are binary; libvirt's are text, either case. */
START_TEST(test_kmod_uuid)
{
	static const char *const bad[] = {
		"", "6f0a1c9e-3b7d-4e2a-9c41-8d5e2f7a1b3", "6f0a1c9e-3b7d-4e2a-9c41-8d5e2f7a1b300",
		"6f0a1c9e+3b7d-4e2a-9c41-8d5e2f7a1b30", "6f0a1c9e-3b7d-4e2a-9c41-8d5e2f7a1bzz",
		"6f0a1c9e3b7d4e2a9c418d5e2f7a1b3", "-f0a1c9e-3b7d-4e2a-9c41-8d5e2f7a1b30",
		"6f0a1c9e-3b7d4-e2a-9c41-8d5e2f7a1b30",
	};
	uint8_t u[MEMTYPE_UUID_LEN], v[MEMTYPE_UUID_LEN];
	char text[37];

	ck_assert_int_eq(kmod_parse_uuid("6F0A1C9E-3B7D-4E2A-9C41-8D5E2F7A1B30", u), 0);
	ck_assert_uint_eq(u[0], 0x6f);
	ck_assert_uint_eq(u[15], 0x30);
	kmod_format_uuid(u, text);
	ck_assert_str_eq(text, "6f0a1c9e-3b7d-4e2a-9c41-8d5e2f7a1b30");
	ck_assert_int_eq(kmod_parse_uuid("6f0a1c9e3b7d4e2a9c418d5e2f7a1b30", v), 0);
	ck_assert_mem_eq(u, v, sizeof(u));
	for (size_t i = 0; i < ELEMENTSOF(bad); i++)
		ck_assert_msg(kmod_parse_uuid(bad[i], u) == -EINVAL, "accepted '%s'", bad[i]);
	ck_assert_int_eq(kmod_parse_uuid(NULL, u), -EINVAL);
}
END_TEST

START_TEST(test_kmod_vmm_user)
{
	struct mt_error err = {};
	uid_t uid = 42;
	bool any = true;

	ck_assert_int_eq(kmod_resolve_vmm_user("any", &uid, &any, &err), 0);
	ck_assert(any);
	ck_assert_int_eq(kmod_resolve_vmm_user("+64055", &uid, &any, &err), 0);
	ck_assert(!any);
	ck_assert_uint_eq(uid, 64055);
	ck_assert_int_eq(kmod_resolve_vmm_user("root", &uid, &any, &err), 0);
	ck_assert_uint_eq(uid, 0);
	ck_assert_int_eq(kmod_resolve_vmm_user("12x", &uid, &any, &err), -EINVAL);
	ck_assert_str_eq(err.message, "VMM user '12x' is not a uid");
	err = (struct mt_error){};
	ck_assert_int_eq(kmod_resolve_vmm_user("no-such-user-memtype", &uid, &any, &err), -ENOENT);
	ck_assert_str_eq(err.message, "VMM user 'no-such-user-memtype' does not exist");
	/* The default never fails: qemu.conf's user, libvirt-qemu or root. */
	ck_assert_int_eq(kmod_resolve_vmm_user(NULL, &uid, &any, &err), 0);
	ck_assert(!any);
}
END_TEST

START_TEST(test_applier_none_fixture)
{
	struct vm_record *r = fixture_record(&fixtures[1]);
	struct applier a = {};
	struct apply_result res;
	struct plan *p = calloc(1, sizeof(*p));
	struct inventory_options o = { .root = MT_TEST_DIR "/roots/intel-client" };
	struct mt_error err = {};
	struct host *h = NULL;
	struct vm *vm = NULL;

	/* The plan that asks to disable IGNORE_GUEST_PAT, as policy_decide()
	 * makes it, cannot be applied here. */
	ck_assert_int_eq(inventory_read(&o, &h, &err), 0);
	ck_assert_int_eq(vm_parse_xml_file(MT_TEST_DIR "/xml/venus-override.xml", &vm, &err), 0);
	ck_assert_int_eq(policy_decide(h, vm, NULL, p), 0);
	ck_assert_uint_eq(p->disable_quirks_mask, r->disable_quirks_mask);
	ck_assert_int_eq(applier_none_new(&a), 0);
	ck_assert_int_eq(a.ops->set_pending(a.ctx, p, 0, &res), 0);
	ck_assert_int_eq(res.status, APPLY_MODULE_UNAVAILABLE);
	ck_assert_ptr_nonnull(strstr(res.reason, "IGNORE_GUEST_PAT"));
	applier_done(&a);
	vm_free(vm);
	host_free(h);
	free(p);
	vm_record_free(r);
}
END_TEST

/* ----- the log ---------------------------------------------------------------- */

static int saved_stderr = -1;
static FILE *captured;

static void capture_stderr(void)
{
	captured = tmpfile();
	ck_assert_ptr_nonnull(captured);
	fflush(stderr);
	saved_stderr = dup(STDERR_FILENO);
	ck_assert_int_ge(saved_stderr, 0);
	ck_assert_int_ge(dup2(fileno(captured), STDERR_FILENO), 0);
}

/* What was written to stderr since capture_stderr(); stderr restored. */
static char *end_capture(void)
{
	char *text = calloc(1, 4096);
	size_t n;

	ck_assert_ptr_nonnull(text);
	ck_assert_int_ge(dup2(saved_stderr, STDERR_FILENO), 0);
	close(saved_stderr);
	rewind(captured);
	n = fread(text, 1, 4095, captured);
	text[n] = '\0';
	fclose(captured);
	return text;
}

START_TEST(test_log_stderr)
{
	char expected[1024], *out;
	int r;

	unsetenv("JOURNAL_STREAM");
	mt_log_open();
	ck_assert(!mt_log_to_journal());
	mt_log_set_max_level(LOG_INFO);
	capture_stderr();
	ck_assert_int_eq(log_info("inventoried %d functions", 12), 0);
	ck_assert_int_eq(log_vm(LOG_NOTICE, "win11-gaming", "planned", QUIRK(IGNORE_GUEST_PAT),
				"IGNORE_GUEST_PAT disabled"), 0);
	r = log_error_errno(-ENOENT, "cannot read %s", "/etc/memtype/memtype.json");
	ck_assert_int_eq(r, -ENOENT);
	/* A positive errno works the same; %m is not repeated. */
	r = log_warning_errno(EACCES, "cannot open the socket: %m");
	ck_assert_int_eq(r, -EACCES);
	r = mt_log_full(LOG_ERR, -EIO, "vm1", "apply", MT_LOG_NO_QUIRKS, "failed");
	ck_assert_int_eq(r, -EIO);
	out = end_capture();
	snprintf(expected, sizeof(expected),
		 "%1$s: inventoried 12 functions\n"
		 "%1$s: win11-gaming: IGNORE_GUEST_PAT disabled\n"
		 "%1$s: cannot read /etc/memtype/memtype.json: %2$s\n"
		 "%1$s: cannot open the socket: %3$s\n"
		 "%1$s: vm1: failed: %4$s\n",
		 program_invocation_short_name, strerror(ENOENT), strerror(EACCES), strerror(EIO));
	ck_assert_str_eq(out, expected);
	free(out);
}
END_TEST

START_TEST(test_log_max_level)
{
	char *out;

	unsetenv("JOURNAL_STREAM");
	mt_log_open();
	mt_log_set_max_level(LOG_WARNING);
	capture_stderr();
	ck_assert_int_eq(log_info("not shown"), 0);
	ck_assert_int_eq(log_debug("not shown"), 0);
	/* Filtered or not, the error comes back to the caller. */
	ck_assert_int_eq(mt_log_full(LOG_NOTICE, ENOSPC, NULL, NULL, MT_LOG_NO_QUIRKS, "full"), -ENOSPC);
	ck_assert_int_eq(log_warning("shown"), 0);
	out = end_capture();
	ck_assert_ptr_null(strstr(out, "not shown"));
	ck_assert_ptr_null(strstr(out, "full"));
	ck_assert_ptr_nonnull(strstr(out, ": shown\n"));
	free(out);
	mt_log_set_max_level(LOG_INFO);
}
END_TEST

START_TEST(test_log_journal_stream)
{
	struct stat st;
	char value[64], *out;

	capture_stderr();
	ck_assert_int_eq(fstat(STDERR_FILENO, &st), 0);
	snprintf(value, sizeof(value), "%llu:%llu", (unsigned long long)st.st_dev,
		 (unsigned long long)st.st_ino);
	setenv("JOURNAL_STREAM", value, 1);
	mt_log_open();
	ck_assert(mt_log_to_journal());
	/* The entry goes through sd_journal_sendv() with its fields, not as
	 * a plain line on stderr (which journald would take without them). */
	ck_assert_int_eq(log_vm(LOG_NOTICE, "vm1", "planned", QUIRK(IGNORE_GUEST_PAT), "planned"), 0);
	out = end_capture();
	ck_assert_str_eq(out, "");
	free(out);

	for (size_t i = 0; i < 4; i++) {
		static const char *const others[] = { "1:2", "", "garbage", "12:" };

		setenv("JOURNAL_STREAM", others[i], 1);
		mt_log_open();
		ck_assert_msg(!mt_log_to_journal(), "JOURNAL_STREAM=%s taken for stderr", others[i]);
	}
	unsetenv("JOURNAL_STREAM");
	mt_log_open();
}
END_TEST

static const struct {
	const char *name;
	int level;
} level_cases[] = {
	{ "err", LOG_ERR }, { "warning", LOG_WARNING }, { "notice", LOG_NOTICE },
	{ "info", LOG_INFO }, { "debug", LOG_DEBUG }, { "crit", LOG_CRIT },
	{ "verbose", -EINVAL }, { "", -EINVAL }, { "INFO", -EINVAL }, { NULL, -EINVAL },
};

START_TEST(test_log_parse_level)
{
	ck_assert_int_eq(mt_log_parse_level(level_cases[_i].name), level_cases[_i].level);
}
END_TEST

/* ----- hot-plug ----------------------------------------------------------------- */

struct settled {
	unsigned calls;
	unsigned n_events;
	uint64_t at_usec;
};

static uint64_t now_usec(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000 + (uint64_t)ts.tv_nsec / 1000;
}

static void on_settled(unsigned n_events, void *userdata)
{
	struct settled *s = userdata;

	s->calls++;
	s->n_events = n_events;
	s->at_usec = now_usec();
}

/* Run the loop until the callback ran once more, at most 5 s. */
static void run_until_called(sd_event *e, struct settled *s)
{
	unsigned before = s->calls;
	uint64_t deadline = now_usec() + 5000000;

	while (s->calls == before && now_usec() < deadline)
		ck_assert_int_ge(sd_event_run(e, 100000), 0);
	ck_assert_uint_eq(s->calls, before + 1);
}

#define SETTLE_USEC 200000

START_TEST(test_hotplug_coalesces)
{
	struct settled s = {};
	struct hotplug *h = NULL;
	sd_event *e = NULL;
	uint64_t last;

	ck_assert_int_eq(sd_event_new(&e), 0);
	ck_assert_int_eq(hotplug_new(e, SETTLE_USEC, on_settled, &s, &h), 0);

	/* A burst (SR-IOV enabling 5 VFs): one callback with all of them. */
	for (unsigned i = 0; i < 5; i++)
		ck_assert_int_eq(hotplug_note_event(h), 0);
	last = now_usec();
	run_until_called(e, &s);
	ck_assert_uint_eq(s.n_events, 5);
	ck_assert_uint_ge(s.at_usec - last, SETTLE_USEC);

	/* Events spaced by less than the settle time push the callback
	 * back: it runs once, settle time after the last. */
	ck_assert_int_eq(hotplug_note_event(h), 0);
	ck_assert_int_ge(sd_event_run(e, SETTLE_USEC / 4), 0);
	ck_assert_int_eq(hotplug_note_event(h), 0);
	ck_assert_int_ge(sd_event_run(e, SETTLE_USEC / 4), 0);
	ck_assert_int_eq(hotplug_note_event(h), 0);
	last = now_usec();
	ck_assert_uint_eq(s.calls, 1);
	run_until_called(e, &s);
	ck_assert_uint_eq(s.n_events, 3);
	ck_assert_uint_ge(s.at_usec - last, SETTLE_USEC);

	/* Quiet afterwards: no callback without events. */
	ck_assert_int_eq(sd_event_run(e, 2 * SETTLE_USEC), 0);
	ck_assert_uint_eq(s.calls, 2);

	ck_assert_int_eq(hotplug_note_event(NULL), -EINVAL);
	hotplug_free(h);
	sd_event_unref(e);
}
END_TEST

START_TEST(test_hotplug_without_udev)
{
	struct hotplug *h = (struct hotplug *)0x1;
	struct settled s = {};
	char reason[256] = "unset";
	sd_event *e = NULL;
	int r;

	ck_assert_int_eq(sd_event_new(&e), 0);
	r = hotplug_start(e, SETTLE_USEC, on_settled, &s, &h, reason, sizeof(reason));
	if (access("/run/udev/control", F_OK) < 0) {
		ck_assert_int_eq(r, -ENXIO);
		ck_assert_str_eq(reason,
				 "udev is not running (no /run/udev/control): PCI hot-plug is not watched");
		ck_assert_ptr_eq(h, (struct hotplug *)0x1);
	} else if (r < 0) {
		/* udev runs but the monitor cannot be had (e.g. a container). */
		ck_assert_ptr_nonnull(strstr(reason, "PCI hot-plug is not watched"));
	} else {
		hotplug_free(h);
	}
	ck_assert_int_eq(hotplug_start(NULL, 0, on_settled, &s, &h, NULL, 0), -EINVAL);
	sd_event_unref(e);
}
END_TEST

static Suite *state_suite(void)
{
	Suite *s = suite_create("state");
	TCase *tc;

	tc = tcase_create("records");
	tcase_add_loop_test(tc, test_string_tables, 0, ELEMENTSOF(string_tables));
	tcase_add_loop_test(tc, test_record_json_fixtures, 0, ELEMENTSOF(fixtures));
	tcase_add_test(tc, test_record_json_optional_fields);
	tcase_add_loop_test(tc, test_set_plan_rejects, 0, ELEMENTSOF(bad_plans));
	tcase_add_test(tc, test_table);
	tcase_add_test(tc, test_table_limit);
	suite_add_tcase(s, tc);

	tc = tcase_create("state-file");
	tcase_add_test(tc, test_save_after_changes);
	tcase_add_loop_test(tc, test_save_load_round_trip, 0, ELEMENTSOF(round_trip_sizes));
	tcase_add_test(tc, test_state_file_shape);
	tcase_add_test(tc, test_load_missing_file);
	tcase_add_test(tc, test_save_unsynced_then_sync);
	tcase_add_test(tc, test_load_needs_empty_table);
	tcase_add_loop_test(tc, test_load_corrupt, 0, ELEMENTSOF(corrupt_cases));
	tcase_add_loop_test(tc, test_load_bad_record, 0, ELEMENTSOF(bad_record_cases));
	tcase_add_test(tc, test_load_ignores_unknown_keys);
	tcase_add_test(tc, test_save_failures);
	suite_add_tcase(s, tc);

	tc = tcase_create("applier");
	tcase_add_loop_test(tc, test_applier_unavailable, 0,
			    ELEMENTSOF(applier_cases) * _APPLIER_KIND_MAX);
	tcase_add_loop_test(tc, test_applier_available, 0, _APPLIER_KIND_MAX);
	tcase_add_test(tc, test_kmod_uuid);
	tcase_add_test(tc, test_kmod_vmm_user);
	tcase_add_test(tc, test_applier_none_fixture);
	suite_add_tcase(s, tc);

	tc = tcase_create("log");
	tcase_add_test(tc, test_log_stderr);
	tcase_add_test(tc, test_log_max_level);
	tcase_add_test(tc, test_log_journal_stream);
	tcase_add_loop_test(tc, test_log_parse_level, 0, ELEMENTSOF(level_cases));
	suite_add_tcase(s, tc);

	tc = tcase_create("hotplug");
	tcase_add_test(tc, test_hotplug_coalesces);
	tcase_add_test(tc, test_hotplug_without_udev);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(state_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
