/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* memtyped's state file: the records of state.h as one JSON document,
 * written atomically and read back record by record, so that one damaged
 * record costs that record and not the others. */
#include <ctype.h>
#include <errno.h>
#include <stddef.h>
#include <fcntl.h>
#include <libgen.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/fileio.h"
#include "common/json-util.h"
#include "daemon/state.h"
#include "policy/plan.h"
#include "vm/vm.h"

/* ----- writing ----------------------------------------------------------- */

/* The plan goes into the file as the text the record already holds: a
 * json-c object whose serializer copies that text, so a save of a thousand
 * records does not parse a thousand plans back into objects. */
static struct json_object *plan_text_json(const char *plan_json)
{
	struct json_object *o = json_object_new_object();

	if (o)
		json_object_set_serializer(o, json_object_userdata_to_json_string,
					   (void *)plan_json, NULL);
	return o;
}

static int add_u64_or_null(struct json_object *o, const char *key, bool set, uint64_t v)
{
	return set ? mt_json_add_u64(o, key, v) : mt_json_add_null(o, key);
}

static int add_readback(struct json_object *o, const struct vm_record *r)
{
	_cleanup_json_ struct json_object *rb = NULL;

	if (!r->readback)
		return mt_json_add_null(o, "readback");
	rb = json_object_new_object();
	if (!rb || mt_json_add_u64(rb, "kvm_mask", r->readback_kvm_mask) < 0 ||
	    mt_json_add_u64(rb, "memtype_mask", r->readback_memtype_mask) < 0 ||
	    mt_json_add(rb, "noncoherent", json_object_new_int(r->readback_noncoherent)) < 0)
		return -ENOMEM;
	return mt_json_add(o, "readback", TAKE_PTR(rb));
}

static int record_to_state_json(const struct vm_record *r, struct json_object **ret)
{
	_cleanup_json_ struct json_object *o = NULL;
	const char *source = vm_source_to_string(r->source);
	const char *state = vm_run_state_to_string(r->state);
	const char *apply = apply_status_to_string(r->apply);

	if (!source || !state || !apply)
		return -EINVAL;
	o = json_object_new_object();
	if (!o || mt_json_add_string(o, "name", r->name) < 0 ||
	    mt_json_add_string(o, "uuid", r->uuid) < 0 ||
	    mt_json_add_string(o, "source", source) < 0 ||
	    mt_json_add_string(o, "state", state) < 0 ||
	    add_u64_or_null(o, "pid", r->pid > 0, (uint64_t)r->pid) < 0 ||
	    mt_json_add_string(o, "apply", apply) < 0 ||
	    mt_json_add_string_or_null(o, "apply_reason", r->apply_reason) < 0 ||
	    mt_json_add_u64(o, "disable_quirks_mask", r->disable_quirks_mask) < 0 ||
	    mt_json_add_bool(o, "noncoherent_dma", r->noncoherent_dma) < 0 ||
	    mt_json_add_string_or_null(o, "last_phase", r->last_phase) < 0 ||
	    mt_json_add_u64(o, "updated_usec", r->updated_usec) < 0 ||
	    mt_json_add_u64(o, "expires_usec", r->expires_usec) < 0 ||
	    add_readback(o, r) < 0)
		return -ENOMEM;
	if ((r->plan_json ? mt_json_add(o, "plan", plan_text_json(r->plan_json))
			  : mt_json_add_null(o, "plan")) < 0)
		return -ENOMEM;
	if (r->xml && mt_json_add_string(o, "xml", r->xml) < 0)
		return -ENOMEM;
	*ret = TAKE_PTR(o);
	return 0;
}

static int fsync_directory_of(const char *path)
{
	_cleanup_free_ char *copy = strdup(path);
	_cleanup_close_ int fd = -1;

	if (!copy)
		return -ENOMEM;
	fd = open(dirname(copy), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	return fsync(fd) < 0 ? -errno : 0;
}

/* A buffered writer on a file descriptor: records are serialized one at a
 * time into it, so a save never holds the whole document (2 MB and tens of
 * thousands of json-c objects for 1,000 VMs) in memory, and leaves no such
 * garbage in malloc's free lists. */
struct out {
	int fd;
	int error;	/* first write error, sticky */
	size_t len;
	char buf[65536];
};

static void out_flush(struct out *o)
{
	if (o->error == 0 && o->len > 0)
		o->error = write_all(o->fd, o->buf, o->len);
	o->len = 0;
}

static void out_put(struct out *o, const char *text, size_t len)
{
	if (o->error)
		return;
	if (len > sizeof(o->buf) - o->len)
		out_flush(o);
	if (len >= sizeof(o->buf)) {
		if (o->error == 0)
			o->error = write_all(o->fd, text, len);
		return;
	}
	memcpy(o->buf + o->len, text, len);
	o->len += len;
}

/* A record's text in the state file, kept from one save to the next: a
 * save with 1,000 records re-serializes only the records that changed
 * (serializing them all took ~4 ms of every hook). Valid while the
 * record's bytes before plan_json and its text_gen are what they were. */
struct vm_record_text {
	char snapshot[offsetof(struct vm_record, plan_json)];
	unsigned gen;
	size_t len;
	char text[];
};

void state_text_free(struct vm_record_text *text)
{
	free(text);
}

static const struct vm_record_text *record_text(struct vm_record *r)
{
	_cleanup_json_ struct json_object *rec = NULL;
	struct vm_record_text *t = r->text;
	const char *text;
	size_t len;

	if (t && t->gen == r->text_gen && memcmp(t->snapshot, r, sizeof(t->snapshot)) == 0)
		return t;
	if (record_to_state_json(r, &rec) < 0)
		return NULL;
	text = json_object_to_json_string_length(rec, JSON_C_TO_STRING_PLAIN, &len);
	if (!text)
		return NULL;
	t = malloc(sizeof(*t) + len);
	if (!t)
		return NULL;
	memcpy(t->snapshot, r, sizeof(t->snapshot));
	t->gen = r->text_gen;
	t->len = len;
	memcpy(t->text, text, len);
	free(r->text);
	r->text = t;
	return t;
}

/* {"schema":"memtype.state/1","vms":[RECORD,...]}: the same document a
 * single json-c tree would give, a record at a time. */
static int write_document(struct out *o, const struct vm_table *t, const char **ret_step)
{
	static const char head[] = "{\"schema\":\"" STATE_SCHEMA "\",\"vms\":[";

	out_put(o, head, sizeof(head) - 1);
	for (size_t i = 0; i < t->n && !o->error; i++) {
		const struct vm_record_text *text;

		*ret_step = "build the document";
		text = record_text(t->v[i]);
		if (!text)
			return -ENOMEM;
		*ret_step = "write";
		if (i > 0)
			out_put(o, ",", 1);
		out_put(o, text->text, text->len);
	}
	*ret_step = "write";
	out_put(o, "]}", 2);
	out_flush(o);
	return o->error;
}

/* Fill tmp (a path template) with t's document (durably when sync); the
 * caller renames it. */
static int write_temporary(char *tmp, const struct vm_table *t, bool sync, const char **ret_step)
{
	_cleanup_free_ struct out *o = NULL;
	_cleanup_close_ int fd = -1;
	int r;

	*ret_step = "build the document";
	o = malloc(sizeof(*o));
	if (!o)
		return -ENOMEM;
	*ret_step = "create a temporary file";
	fd = mkostemp(tmp, O_CLOEXEC);
	if (fd < 0)
		return -errno;
	*o = (struct out){ .fd = fd };
	r = write_document(o, t, ret_step);
	if (r < 0)
		goto unlink;
	*ret_step = "fsync";
	if (sync && fsync(fd) < 0) {
		r = -errno;
		goto unlink;
	}
	*ret_step = "close";
	r = close(fd) < 0 ? -errno : 0;
	fd = -1;
	if (r < 0)
		goto unlink;
	return 0;
unlink:
	(void)unlink(tmp);
	return r;
}

static int save(const char *path, const struct vm_table *t, bool sync, struct mt_error *err)
{
	_cleanup_free_ char *tmp = NULL;
	const char *step = "build the document";
	int r;

	if (!path || !t)
		return -EINVAL;
	if (asprintf(&tmp, "%s.tmp.XXXXXX", path) < 0)
		return mt_error_set(err, -ENOMEM, "state file %s: out of memory", path);
	r = write_temporary(tmp, t, sync, &step);
	if (r < 0)
		return mt_error_set(err, r, "state file %s: cannot %s: %s", path, step, strerror(-r));
	if (rename(tmp, path) < 0) {
		r = -errno;
		(void)unlink(tmp);
		return mt_error_set(err, r, "state file %s: cannot rename %s over it: %s",
				    path, tmp, strerror(-r));
	}
	if (!sync)
		return 0;
	/* Without this, a crash can bring back the old file after the rename. */
	r = fsync_directory_of(path);
	if (r < 0)
		return mt_error_set(err, r, "state file %s: cannot fsync its directory: %s",
				    path, strerror(-r));
	return 0;
}

int state_save(const char *path, const struct vm_table *t, struct mt_error *err)
{
	return save(path, t, true, err);
}

int state_save_unsynced(const char *path, const struct vm_table *t, struct mt_error *err)
{
	return save(path, t, false, err);
}

int state_sync(const char *path, struct mt_error *err)
{
	_cleanup_close_ int fd = -1;
	int r;

	if (!path)
		return -EINVAL;
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		r = -errno;
		return mt_error_set(err, r, "state file %s: cannot open it to fsync: %s", path,
				    strerror(-r));
	}
	if (fsync(fd) < 0) {
		r = -errno;
		return mt_error_set(err, r, "state file %s: cannot fsync: %s", path, strerror(-r));
	}
	r = fsync_directory_of(path);
	if (r < 0)
		return mt_error_set(err, r, "state file %s: cannot fsync its directory: %s",
				    path, strerror(-r));
	return 0;
}

/* ----- reading ----------------------------------------------------------- */

DEFINE_TRIVIAL_CLEANUP_FUNC(struct json_tokener *, json_tokener_free)

/* One key of a record; parse gets a value of the entry's type (null is
 * not passed: it means "absent") and says what is wrong in *ret_why. */
struct record_field {
	const char *name;
	json_type type;
	bool required;
	int (*parse)(struct json_object *v, struct vm_record *r, const char **ret_why);
};

static int parse_u64_value(struct json_object *v, uint64_t *ret, const char **ret_why)
{
	/* json-c keeps integers beyond INT64_MAX as uint64, negatives as int64. */
	if (json_object_get_int64(v) < 0) {
		*ret_why = "is negative";
		return -ERANGE;
	}
	*ret = json_object_get_uint64(v);
	return 0;
}

static int copy_bounded(struct json_object *v, char *dst, size_t size, const char **ret_why)
{
	const char *s = json_object_get_string(v);
	size_t len = (size_t)json_object_get_string_len(v);

	if (len >= size || strlen(s) != len) {
		*ret_why = len >= size ? "is too long" : "holds a NUL byte";
		return -EINVAL;
	}
	memcpy(dst, s, len + 1);
	return 0;
}

static int parse_name(struct json_object *v, struct vm_record *r, const char **ret_why)
{
	if (json_object_get_string_len(v) == 0) {
		*ret_why = "is empty";
		return -EINVAL;
	}
	return copy_bounded(v, r->name, sizeof(r->name), ret_why);
}

/* 8-4-4-4-12 hex digits, as libvirt writes them (any case). */
static bool uuid_is_canonical(const char *s)
{
	if (strlen(s) != 36)
		return false;
	for (size_t i = 0; i < 36; i++) {
		bool dash_here = i == 8 || i == 13 || i == 18 || i == 23;

		if (dash_here != (s[i] == '-'))
			return false;
		if (!dash_here && !isxdigit((unsigned char)s[i]))
			return false;
	}
	return true;
}

/* Empty is allowed: a registered VM's XML need not have a <uuid>. */
static int parse_uuid(struct json_object *v, struct vm_record *r, const char **ret_why)
{
	const char *s = json_object_get_string(v);

	if (*s && !uuid_is_canonical(s)) {
		*ret_why = "is not a UUID in canonical form";
		return -EINVAL;
	}
	return copy_bounded(v, r->uuid, sizeof(r->uuid), ret_why);
}

static int parse_source(struct json_object *v, struct vm_record *r, const char **ret_why)
{
	int k = vm_source_from_string(json_object_get_string(v));

	if (k < 0) {
		*ret_why = "is not \"libvirt\" or \"registered\"";
		return k;
	}
	r->source = (enum vm_source)k;
	return 0;
}

static int parse_state(struct json_object *v, struct vm_record *r, const char **ret_why)
{
	int k = vm_run_state_from_string(json_object_get_string(v));

	if (k < 0) {
		*ret_why = "is not a known run state";
		return k;
	}
	r->state = (enum vm_run_state)k;
	return 0;
}

static int parse_apply(struct json_object *v, struct vm_record *r, const char **ret_why)
{
	int k = apply_status_from_string(json_object_get_string(v));

	if (k < 0) {
		*ret_why = "is not a known apply status";
		return k;
	}
	r->apply = (enum apply_status)k;
	return 0;
}

static int parse_pid(struct json_object *v, struct vm_record *r, const char **ret_why)
{
	int64_t pid = json_object_get_int64(v);

	if (pid < 0 || pid > INT_MAX) {
		*ret_why = "is out of range";
		return -ERANGE;
	}
	r->pid = (pid_t)pid;
	return 0;
}

static int parse_apply_reason(struct json_object *v, struct vm_record *r, const char **ret_why)
{
	return copy_bounded(v, r->apply_reason, sizeof(r->apply_reason), ret_why);
}

static int parse_last_phase(struct json_object *v, struct vm_record *r, const char **ret_why)
{
	return copy_bounded(v, r->last_phase, sizeof(r->last_phase), ret_why);
}

static int parse_mask(struct json_object *v, struct vm_record *r, const char **ret_why)
{
	return parse_u64_value(v, &r->disable_quirks_mask, ret_why);
}

static int parse_noncoherent(struct json_object *v, struct vm_record *r, const char **ret_why _unused_)
{
	r->noncoherent_dma = json_object_get_boolean(v);
	return 0;
}

static int parse_updated(struct json_object *v, struct vm_record *r, const char **ret_why)
{
	return parse_u64_value(v, &r->updated_usec, ret_why);
}

static int parse_expires(struct json_object *v, struct vm_record *r, const char **ret_why)
{
	return parse_u64_value(v, &r->expires_usec, ret_why);
}

static int parse_readback(struct json_object *v, struct vm_record *r, const char **ret_why)
{
	struct json_object *kvm, *memtype, *nc;

	if (!json_object_object_get_ex(v, "kvm_mask", &kvm) ||
	    !json_object_object_get_ex(v, "memtype_mask", &memtype) ||
	    !json_object_object_get_ex(v, "noncoherent", &nc) ||
	    !json_object_is_type(kvm, json_type_int) || !json_object_is_type(memtype, json_type_int) ||
	    !json_object_is_type(nc, json_type_int)) {
		*ret_why = "needs integers kvm_mask, memtype_mask and noncoherent";
		return -EINVAL;
	}
	if (parse_u64_value(kvm, &r->readback_kvm_mask, ret_why) < 0 ||
	    parse_u64_value(memtype, &r->readback_memtype_mask, ret_why) < 0)
		return -ERANGE;
	if (json_object_get_int64(nc) < 0 || json_object_get_int64(nc) > INT_MAX) {
		*ret_why = "has a noncoherent count out of range";
		return -ERANGE;
	}
	r->readback_noncoherent = (int)json_object_get_int64(nc);
	r->readback = true;
	return 0;
}

/* After disable_quirks_mask and noncoherent_dma in the table: what the
 * plan says wins over the copies next to it. */
static int parse_plan(struct json_object *v, struct vm_record *r, const char **ret_why)
{
	int k = vm_record_set_plan(r, v);

	if (k == -EINVAL)
		*ret_why = "is not a " PLAN_SCHEMA " document";
	return k;
}

static int parse_xml(struct json_object *v, struct vm_record *r, const char **ret_why)
{
	if ((size_t)json_object_get_string_len(v) > VM_XML_MAX_BYTES) {
		*ret_why = "is larger than a domain XML may be";
		return -EFBIG;
	}
	free(r->xml);
	r->xml = strdup(json_object_get_string(v));
	return r->xml ? 0 : -ENOMEM;
}

static const struct record_field record_fields[] = {
	{ "name", json_type_string, true, parse_name },
	{ "uuid", json_type_string, true, parse_uuid },
	{ "source", json_type_string, true, parse_source },
	{ "state", json_type_string, true, parse_state },
	{ "apply", json_type_string, true, parse_apply },
	{ "pid", json_type_int, false, parse_pid },
	{ "apply_reason", json_type_string, false, parse_apply_reason },
	{ "disable_quirks_mask", json_type_int, false, parse_mask },
	{ "noncoherent_dma", json_type_boolean, false, parse_noncoherent },
	{ "last_phase", json_type_string, false, parse_last_phase },
	{ "updated_usec", json_type_int, false, parse_updated },
	{ "expires_usec", json_type_int, false, parse_expires },
	{ "readback", json_type_object, false, parse_readback },
	{ "plan", json_type_object, false, parse_plan },
	{ "xml", json_type_string, false, parse_xml },
};

static const char *json_type_article(json_type t)
{
	switch (t) {
	case json_type_string:
		return "a string";
	case json_type_int:
		return "an integer";
	case json_type_boolean:
		return "a boolean";
	case json_type_object:
		return "an object";
	default:
		return "something else";
	}
}

/* Keys this version does not know are ignored: a newer memtyped may have
 * written them, and dropping the record for them would lose it. */
static int record_from_state_json(struct json_object *o, struct vm_record **ret,
				  char *why, size_t why_size)
{
	_cleanup_(vm_record_freep) struct vm_record *r = vm_record_new();

	if (!r)
		return -ENOMEM;
	if (!json_object_is_type(o, json_type_object)) {
		snprintf(why, why_size, "is not an object");
		return -EINVAL;
	}
	for (size_t i = 0; i < ELEMENTSOF(record_fields); i++) {
		const struct record_field *f = &record_fields[i];
		const char *what = NULL;
		struct json_object *v = NULL;
		int k;

		if (!json_object_object_get_ex(o, f->name, &v) || !v) {
			if (!f->required)
				continue;
			snprintf(why, why_size, "%s is missing", f->name);
			return -EINVAL;
		}
		if (!json_object_is_type(v, f->type)) {
			snprintf(why, why_size, "%s is not %s", f->name, json_type_article(f->type));
			return -EINVAL;
		}
		k = f->parse(v, r, &what);
		if (k < 0) {
			snprintf(why, why_size, "%s %s", f->name, what ? what : strerror(-k));
			return k;
		}
	}
	*ret = TAKE_PTR(r);
	return 0;
}

/* The record's name as the file has it, for messages about the record. */
static const char *record_label(struct json_object *o)
{
	struct json_object *name;

	if (json_object_is_type(o, json_type_object) &&
	    json_object_object_get_ex(o, "name", &name) &&
	    json_object_is_type(name, json_type_string) && json_object_get_string_len(name) > 0)
		return json_object_get_string(name);
	return "?";
}

static int load_record(const char *path, struct json_object *o, size_t index,
		       struct vm_table *t, struct mt_error *err)
{
	_cleanup_(vm_record_freep) struct vm_record *r = NULL;
	char why[160];
	int k;

	k = record_from_state_json(o, &r, why, sizeof(why));
	if (k == -ENOMEM)
		return k;
	if (k >= 0) {
		k = vm_table_add(t, r);
		if (k >= 0) {
			TAKE_PTR(r);
			return 0;
		}
		if (k == -ENOMEM)
			return k;
		if (k == -EEXIST)
			snprintf(why, sizeof(why), "duplicate name, the first record kept");
		else
			snprintf(why, sizeof(why), "beyond the %d records memtyped keeps",
				 STATE_MAX_VMS);
	}
	mt_error_set(err, -EINVAL, "state file %s: record %zu (%.64s): %s, skipped",
		     path, index, record_label(o), why);
	return 1;
}

static int parse_document(const char *path, const char *text, size_t len,
			  struct json_object **ret, struct mt_error *err)
{
	_cleanup_(json_tokener_freep) struct json_tokener *tok = NULL;
	_cleanup_json_ struct json_object *doc = NULL;
	enum json_tokener_error e;
	size_t end;

	if (len > INT_MAX)
		return mt_error_set(err, -EBADMSG, "state file %s: too large", path);
	tok = json_tokener_new();
	if (!tok)
		return -ENOMEM;
	doc = json_tokener_parse_ex(tok, text, (int)len);
	e = json_tokener_get_error(tok);
	if (e == json_tokener_continue || (!doc && e == json_tokener_success))
		return mt_error_set(err, -EBADMSG, "state file %s: not JSON: ends early (truncated?)", path);
	if (!doc)
		return mt_error_set(err, -EBADMSG, "state file %s: not JSON: %s at byte %zu", path,
				    json_tokener_error_desc(e), json_tokener_get_parse_end(tok));
	end = json_tokener_get_parse_end(tok);
	end += strspn(text + end, " \t\r\n");
	if (end != len)
		return mt_error_set(err, -EBADMSG, "state file %s: not JSON: garbage after the document at byte %zu",
				    path, end);
	*ret = TAKE_PTR(doc);
	return 0;
}

static int check_document(const char *path, struct json_object *doc, struct json_object **ret_vms,
			  struct mt_error *err)
{
	struct json_object *schema, *vms;

	if (!json_object_is_type(doc, json_type_object))
		return mt_error_set(err, -EBADMSG, "state file %s: not a JSON object", path);
	if (!json_object_object_get_ex(doc, "schema", &schema) ||
	    !json_object_is_type(schema, json_type_string) ||
	    !streq(json_object_get_string(schema), STATE_SCHEMA))
		return mt_error_set(err, -EBADMSG, "state file %s: schema is not \"%s\"", path,
				    STATE_SCHEMA);
	if (!json_object_object_get_ex(doc, "vms", &vms) || !json_object_is_type(vms, json_type_array))
		return mt_error_set(err, -EBADMSG, "state file %s: \"vms\" is not an array", path);
	*ret_vms = vms;
	return 0;
}

static int read_state_text(const char *path, char **ret, size_t *ret_len, struct mt_error *err)
{
	struct stat st;
	int r;

	if (stat(path, &st) < 0) {
		r = -errno;
		if (r == -ENOENT)
			return 0;
		return mt_error_set(err, r, "state file %s: %s", path, strerror(-r));
	}
	/* Refuse before reading: a huge file is not ours, whatever it holds. */
	if (S_ISREG(st.st_mode) && st.st_size > STATE_FILE_MAX)
		return mt_error_set(err, -EBADMSG, "state file %s: %jd bytes, more than a state file may have (%d)",
				    path, (intmax_t)st.st_size, STATE_FILE_MAX);
	r = read_file_bounded(path, STATE_FILE_MAX, ret, ret_len);
	if (r == -EFBIG)
		return mt_error_set(err, -EBADMSG, "state file %s: more than %d bytes", path, STATE_FILE_MAX);
	if (r < 0)
		return mt_error_set(err, r, "state file %s: %s", path, strerror(-r));
	return 1;
}

int state_load(const char *path, struct vm_table *t, unsigned *ret_skipped, struct mt_error *err)
{
	_cleanup_(vm_table_done) struct vm_table loaded = {};
	_cleanup_json_ struct json_object *doc = NULL;
	_cleanup_free_ char *text = NULL;
	struct json_object *vms = NULL;
	unsigned skipped = 0;
	size_t len = 0;
	int r;

	if (!path || !t || t->n > 0)
		return -EINVAL;
	r = read_state_text(path, &text, &len, err);
	if (r <= 0) {
		if (r == 0 && ret_skipped)
			*ret_skipped = 0;
		return r;
	}
	r = parse_document(path, text, len, &doc, err);
	if (r < 0)
		return r;
	r = check_document(path, doc, &vms, err);
	if (r < 0)
		return r;
	for (size_t i = 0; i < json_object_array_length(vms); i++) {
		r = load_record(path, json_object_array_get_idx(vms, i), i, &loaded, err);
		if (r < 0)
			return mt_error_set(err, r, "state file %s: %s", path, strerror(-r));
		skipped += r;
	}
	vm_table_done(t);
	*t = loaded;
	loaded = (struct vm_table){};
	if (ret_skipped)
		*ret_skipped = skipped;
	return 0;
}
