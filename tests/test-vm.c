/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Unit tests of vm/: every field of the VM model read from the fixtures in
 * tests/xml/, QEMU passthrough (commandline and override) variants, the
 * errors for malformed and hostile documents, and the option/unit parsers. */
#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <json-c/json.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/error.h"
#include "vm/qemu-opts.h"
#include "vm/vm-internal.h"
#include "vm/vm.h"

#define GiB (1024ULL * 1024 * 1024)

static const char *test_dir(void)
{
	const char *d = getenv("MT_TEST_DIR");

	return d && *d ? d : MT_TEST_DIR;
}

static struct vm *parse_file_ok(const char *relative)
{
	struct mt_error err = {};
	struct vm *vm = NULL;
	char path[4096];
	int r;

	snprintf(path, sizeof(path), "%s/xml/%s", test_dir(), relative);
	r = vm_parse_xml_file(path, &vm, &err);
	ck_assert_msg(r == 0, "%s: %s", relative, mt_error_message(&err, r));
	ck_assert_ptr_nonnull(vm);
	return vm;
}

static struct vm *parse_ok(const char *xml)
{
	struct mt_error err = {};
	struct vm *vm = NULL;
	int r = vm_parse_xml(xml, strlen(xml), &vm, &err);

	ck_assert_msg(r == 0, "%s\nin: %s", mt_error_message(&err, r), xml);
	return vm;
}

/* Parse xml expecting failure with code and a message containing what. */
static void parse_fails(const char *xml, size_t len, int code, const char *what)
{
	struct mt_error err = {};
	struct vm *vm = NULL;
	int r = vm_parse_xml(xml, len, &vm, &err);

	ck_assert_msg(r == code, "expected %d, got %d (%s) for %.300s", code, r,
		      mt_error_message(&err, r), xml);
	ck_assert_ptr_null(vm);
	ck_assert_int_eq(err.code, code);
	ck_assert_msg(strstr(err.message, what), "message '%s' lacks '%s'", err.message, what);
}

/* A minimal domain: ns is extra attributes of <domain>, devices the content
 * of <devices>, tail what follows it. */
static char *domain_xml(const char *ns, const char *devices, const char *tail)
{
	char *s = NULL;

	ck_assert_int_ge(asprintf(&s,
				  "<domain type='kvm'%s>\n"
				  "  <name>t</name>\n"
				  "  <os>\n    <type arch='x86_64' machine='pc-q35-7.2'>hvm</type>\n  </os>\n"
				  "  <devices>\n%s\n  </devices>\n%s\n</domain>\n",
				  ns, devices, tail), 0);
	return s;
}

/* ----- fixtures -------------------------------------------------------- */

#define QEMU_NS " xmlns:qemu='http://libvirt.org/schemas/domain/qemu/1.0'"
#define MAX_EXPECT 4

struct fixture_case {
	const char *file;
	const char *name, *uuid;
	struct vm_hostdev hostdevs[MAX_EXPECT];
	size_t n_hostdevs;
	struct vm_video videos[MAX_EXPECT];
	size_t n_videos;
	struct vm_shmem shmems[MAX_EXPECT];
	size_t n_shmems;
	uint64_t hostmem_bytes;        /* 0: no virtio-gpu hostmem */
	bool venus;
	enum launch_security launch_security;
	enum vm_firmware firmware;
	const char *cpu_mode;
};

#define VIDEO(m, ...) { .model = VIDEO_MODEL_##m, .primary = true, __VA_ARGS__ }

static const struct fixture_case fixtures[] = {
	{ "plain.xml", "debian12", "6f0a1c9e-3b7d-4e2a-9c41-8d5e2f7a1b30",
	  .videos = { VIDEO(VIRTIO) }, .n_videos = 1,
	  .firmware = VM_FIRMWARE_BIOS, .cpu_mode = "host-passthrough" },
	{ "vga.xml", "vga-guest", "0b8e2d41-7c3a-4f19-a6e5-1d2c3b4a5f60",
	  .videos = { VIDEO(VGA, .vram_kib = 16384) }, .n_videos = 1,
	  .firmware = VM_FIRMWARE_BIOS, .cpu_mode = "host-passthrough" },
	{ "bochs.xml", "bochs-guest", "1c9f3e52-8d4b-4a2a-b7f6-2e3d4c5b6a71",
	  .videos = { VIDEO(BOCHS, .vram_kib = 16384) }, .n_videos = 1,
	  .firmware = VM_FIRMWARE_BIOS, .cpu_mode = "host-passthrough" },
	{ "cirrus.xml", "winxp-legacy", "2da04f63-9e5c-4b3b-88a7-3f4e5d6c7b82",
	  .videos = { VIDEO(CIRRUS, .vram_kib = 16384) }, .n_videos = 1,
	  .firmware = VM_FIRMWARE_BIOS, .cpu_mode = "host-passthrough" },
	{ "qxl.xml", "win10-spice", "3eb15a74-af6d-4c4c-99b8-4a5f6e7d8c93",
	  /* vgamem, not vram (65536) */
	  .videos = { VIDEO(QXL, .vram_kib = 16384) }, .n_videos = 1,
	  .firmware = VM_FIRMWARE_EFI, .cpu_mode = "host-passthrough" },
	{ "vmvga.xml", "vmware-import", "4fc26b85-b07e-4d5d-aac9-5b6a7f8e9da4",
	  .videos = { VIDEO(VMVGA, .vram_kib = 16384) }, .n_videos = 1,
	  .firmware = VM_FIRMWARE_BIOS, .cpu_mode = "host-passthrough" },
	{ "virtio-blob.xml", "blob-guest", "50d37c96-c18f-4e6e-bbda-6c7b8a9faeb5",
	  .videos = { VIDEO(VIRTIO, .blob = true) }, .n_videos = 1,
	  .firmware = VM_FIRMWARE_BIOS, .cpu_mode = "host-passthrough" },
	{ "virtio-3d.xml", "virgl-guest", "61e48da7-d29a-4f7f-8ceb-7d8c9bab0fc6",
	  .videos = { VIDEO(VIRTIO, .accel3d = true) }, .n_videos = 1,
	  .firmware = VM_FIRMWARE_BIOS, .cpu_mode = "host-passthrough" },
	{ "venus-cmdline.xml", "venus-cmdline", "72f59eb8-e3ab-4a8a-9dfc-8e9dacbc1ad7",
	  .videos = { VIDEO(NONE) }, .n_videos = 1,
	  .hostmem_bytes = 4 * GiB, .venus = true,
	  .firmware = VM_FIRMWARE_BIOS, .cpu_mode = "host-passthrough" },
	{ "venus-override.xml", "venus-override", "836aafc9-f4bc-4b9b-ae0d-9faebdcd2be8",
	  .videos = { VIDEO(VIRTIO, .accel3d = true) }, .n_videos = 1,
	  .hostmem_bytes = 4 * GiB, .venus = true,
	  .firmware = VM_FIRMWARE_BIOS, .cpu_mode = "host-passthrough" },
	{ "venus-with-vga.xml", "venus-vga", "947bb0da-05cd-4cac-bf1e-a0bfcedf3cf9",
	  .videos = { VIDEO(VGA, .vram_kib = 16384) }, .n_videos = 1,
	  .hostmem_bytes = 8 * GiB, .venus = true,
	  .firmware = VM_FIRMWARE_BIOS, .cpu_mode = "host-passthrough" },
	{ "ivshmem-looking-glass.xml", "win11-lg", "a58cc1eb-16de-4dbd-8c2f-b1c0dfe04d0a",
	  .videos = { VIDEO(VIRTIO) }, .n_videos = 1,
	  .shmems = { { .name = "looking-glass", .model = "ivshmem-plain",
			.size_bytes = 32 << 20, .looking_glass = true } }, .n_shmems = 1,
	  .firmware = VM_FIRMWARE_EFI, .cpu_mode = "host-passthrough" },
	{ "gpu-passthrough.xml", "win11-gaming", "b69dd2fc-27ef-4ecd-9d30-c2d1e0f15e1b",
	  .hostdevs = { { VM_HOSTDEV_PCI, .bdf = "0000:01:00.0", .managed = true },
			{ VM_HOSTDEV_PCI, .bdf = "0000:01:00.1", .managed = true } }, .n_hostdevs = 2,
	  .videos = { VIDEO(NONE) }, .n_videos = 1,
	  .firmware = VM_FIRMWARE_EFI, .cpu_mode = "host-passthrough" },
	{ "igpu-passthrough.xml", "igpu-guest", "c7aee30d-38f0-4fde-ae41-d3e2f1026f2c",
	  .hostdevs = { { VM_HOSTDEV_PCI, .bdf = "0000:00:02.0", .managed = true } }, .n_hostdevs = 1,
	  .videos = { VIDEO(NONE) }, .n_videos = 1,
	  .firmware = VM_FIRMWARE_EFI, .cpu_mode = "host-passthrough" },
	{ "mdev-gvtg.xml", "gvtg-guest", "d8bff41e-49a1-4eef-bf52-e4f30213703d",
	  .hostdevs = { { VM_HOSTDEV_MDEV, .mdev_uuid = "4b20d080-1b54-4048-85b3-a6a62d165c01",
			  .mdev_model = "vfio-pci" } }, .n_hostdevs = 1,
	  .videos = { VIDEO(NONE) }, .n_videos = 1,
	  .firmware = VM_FIRMWARE_EFI, .cpu_mode = "host-passthrough" },
	{ "sriov-vf-interface.xml", "sriov-guest", "e9c0052f-5ab2-4f00-8063-f5041324814e",
	  .hostdevs = { { VM_HOSTDEV_INTERFACE, .bdf = "0000:17:02.0", .managed = true } },
	  .n_hostdevs = 1,
	  .videos = { VIDEO(VIRTIO) }, .n_videos = 1,
	  .firmware = VM_FIRMWARE_BIOS, .cpu_mode = "host-passthrough" },
	{ "sriov-network-pool.xml", "sriov-pool-guest", "f0d1163a-6bc3-4011-9174-061524359250",
	  .hostdevs = { { VM_HOSTDEV_INTERFACE, .bdf = "0000:17:02.1", .network = "sriov-pool",
			  .managed = true } }, .n_hostdevs = 1,
	  .videos = { VIDEO(VIRTIO) }, .n_videos = 1,
	  .firmware = VM_FIRMWARE_BIOS, .cpu_mode = "host-passthrough" },
	{ "tdx.xml", "td-guest", "0a1b2c3d-4e5f-4061-8728-394a5b6c7d8e",
	  .videos = { VIDEO(VIRTIO) }, .n_videos = 1,
	  .launch_security = LAUNCH_SECURITY_TDX,
	  .firmware = VM_FIRMWARE_EFI, .cpu_mode = "host-passthrough" },
	{ "sev-snp.xml", "snp-guest", "1b2c3d4e-5f60-4172-8839-4a5b6c7d8e9f",
	  .videos = { VIDEO(VIRTIO) }, .n_videos = 1,
	  .launch_security = LAUNCH_SECURITY_SEV_SNP,
	  .firmware = VM_FIRMWARE_EFI, .cpu_mode = "host-model" },
	{ "ovmf.xml", "uefi-guest", "2c3d4e5f-6071-4283-894a-5b6c7d8e9fa0",
	  .videos = { VIDEO(VIRTIO) }, .n_videos = 1,
	  .firmware = VM_FIRMWARE_EFI, .cpu_mode = "custom" },
};

static void assert_hostdev(const struct vm_hostdev *got, const struct vm_hostdev *want,
			   const char *file, size_t i)
{
	ck_assert_msg(got->kind == want->kind, "%s hostdev %zu: kind %d, want %d", file, i,
		      got->kind, want->kind);
	ck_assert_str_eq(got->bdf, want->bdf);
	ck_assert_str_eq(got->mdev_uuid, want->mdev_uuid);
	ck_assert_str_eq(got->mdev_model, want->mdev_model);
	ck_assert_str_eq(got->network, want->network);
	ck_assert_msg(got->managed == want->managed, "%s hostdev %zu: managed", file, i);
}

static void assert_video(const struct vm_video *got, const struct vm_video *want,
			 const char *file, size_t i)
{
	ck_assert_msg(got->model == want->model, "%s video %zu: model %s, want %s", file, i,
		      video_model_to_string(got->model), video_model_to_string(want->model));
	ck_assert_msg(got->primary == want->primary, "%s video %zu: primary", file, i);
	ck_assert_msg(got->blob == want->blob, "%s video %zu: blob", file, i);
	ck_assert_msg(got->accel3d == want->accel3d, "%s video %zu: accel3d", file, i);
	ck_assert_uint_eq(got->vram_kib, want->vram_kib);
}

static void assert_shmem(const struct vm_shmem *got, const struct vm_shmem *want)
{
	ck_assert_str_eq(got->name, want->name);
	ck_assert_str_eq(got->model, want->model);
	ck_assert_uint_eq(got->size_bytes, want->size_bytes);
	ck_assert(got->looking_glass == want->looking_glass);
}

START_TEST(test_fixture)
{
	const struct fixture_case *c = &fixtures[_i];
	struct vm *vm = parse_file_ok(c->file);

	ck_assert_str_eq(vm->name, c->name);
	ck_assert_str_eq(vm->uuid, c->uuid);
	ck_assert_str_eq(vm->domain_type, "kvm");
	ck_assert_uint_eq(vm->n_hostdevs, c->n_hostdevs);
	for (size_t i = 0; i < c->n_hostdevs; i++)
		assert_hostdev(&vm->hostdevs[i], &c->hostdevs[i], c->file, i);
	ck_assert_uint_eq(vm->n_videos, c->n_videos);
	for (size_t i = 0; i < c->n_videos; i++)
		assert_video(&vm->videos[i], &c->videos[i], c->file, i);
	ck_assert_uint_eq(vm->n_shmems, c->n_shmems);
	for (size_t i = 0; i < c->n_shmems; i++)
		assert_shmem(&vm->shmems[i], &c->shmems[i]);
	ck_assert_msg(vm->virtio_gpu_hostmem == (c->hostmem_bytes > 0), "%s: hostmem", c->file);
	ck_assert_uint_eq(vm->hostmem_bytes, c->hostmem_bytes);
	ck_assert_msg(vm->venus == c->venus, "%s: venus", c->file);
	ck_assert_int_eq(vm->launch_security, c->launch_security);
	ck_assert_int_eq(vm->firmware, c->firmware);
	ck_assert_str_eq(vm->cpu_mode, c->cpu_mode);
	vm_free(vm);
}
END_TEST

static const char *json_str(json_object *o, const char *key)
{
	json_object *v = NULL;

	ck_assert_msg(json_object_object_get_ex(o, key, &v), "JSON lacks %s", key);
	return v ? json_object_get_string(v) : NULL;
}

/* The JSON view carries the model's values under the documented keys. */
START_TEST(test_fixture_json)
{
	const struct fixture_case *c = &fixtures[_i];
	static const char *const firmware[] = { "unknown", "bios", "efi" };
	struct vm *vm = parse_file_ok(c->file);
	json_object *o = NULL, *a;

	ck_assert_int_eq(vm_to_json(vm, &o), 0);
	ck_assert_str_eq(json_str(o, "name"), c->name);
	ck_assert_str_eq(json_str(o, "uuid"), c->uuid);
	ck_assert_str_eq(json_str(o, "type"), "kvm");
	ck_assert_str_eq(json_str(o, "firmware"), firmware[c->firmware]);
	ck_assert_str_eq(json_str(o, "launch_security"), launch_security_to_string(c->launch_security));
	ck_assert_str_eq(json_str(o, "cpu_mode"), c->cpu_mode);
	ck_assert_str_eq(json_str(o, "venus"), c->venus ? "true" : "false");
	ck_assert_str_eq(json_str(o, "virtio_gpu_hostmem"), c->hostmem_bytes ? "true" : "false");
	ck_assert(json_object_object_get_ex(o, "hostmem_bytes", &a));
	ck_assert_uint_eq(json_object_get_uint64(a), c->hostmem_bytes);
	ck_assert(json_object_object_get_ex(o, "hostdevs", &a));
	ck_assert_uint_eq(json_object_array_length(a), c->n_hostdevs);
	for (size_t i = 0; i < c->n_hostdevs; i++) {
		json_object *h = json_object_array_get_idx(a, i);

		ck_assert_str_eq(json_str(h, "bdf") ?: "", c->hostdevs[i].bdf);
	}
	ck_assert(json_object_object_get_ex(o, "videos", &a));
	ck_assert_uint_eq(json_object_array_length(a), c->n_videos);
	ck_assert_str_eq(json_str(json_object_array_get_idx(a, 0), "model"),
			 video_model_to_string(c->videos[0].model));
	ck_assert(json_object_object_get_ex(o, "shmems", &a));
	ck_assert_uint_eq(json_object_array_length(a), c->n_shmems);
	json_object_put(o);
	vm_free(vm);
}
END_TEST

/* ----- malformed and hostile documents -------------------------------- */

struct bad_case {
	const char *file;
	int code;
	const char *message;
};

static const struct bad_case bad_fixtures[] = {
	{ "truncated.xml", -EINVAL, "line 61, column 1: Premature end of data in tag devices" },
	{ "mismatched-tags.xml", -EINVAL, "Opening and ending tag mismatch: devices line 34 and domain" },
	{ "wrong-root.xml", -EINVAL, "line 1: not a libvirt domain: root element is <network>" },
	{ "missing-name.xml", -EINVAL, "<domain> has no <name>" },
	{ "missing-type.xml", -EINVAL, "<domain> has no type attribute" },
	{ "bad-uuid.xml", -EINVAL, "line 3: <uuid> '6f0a1c9e-3b7d-4e2a-9c41-8d5e2f7a1bzz' is not a valid UUID" },
	{ "bad-pci-address.xml", -ERANGE,
	  "line 133: <hostdev type='pci'> PCI address: slot='0x20' is out of range" },
	{ "bad-hostmem-size.xml", -EINVAL, "hostmem='4Q' is not a valid size" },
	{ "bad-shmem-unit.xml", -EINVAL, "<shmem> <size unit='MX'> is not a known unit" },
	{ "billion-laughs.xml", -EINVAL, "must not contain a DTD or entity declarations" },
	{ "xxe.xml", -EINVAL, "must not contain a DTD or entity declarations" },
	{ "too-deep.xml", -E2BIG, "nested deeper than 64 levels" },
	{ "non-utf8.xml", -EINVAL, "line 2, column 12: Input is not proper UTF-8" },
};

START_TEST(test_bad_fixture)
{
	const struct bad_case *c = &bad_fixtures[_i];
	struct mt_error err = {};
	struct vm *vm = NULL;
	char path[4096];
	int r;

	snprintf(path, sizeof(path), "%s/xml/bad/%s", test_dir(), c->file);
	r = vm_parse_xml_file(path, &vm, &err);
	ck_assert_msg(r == c->code, "%s: got %d (%s)", c->file, r, mt_error_message(&err, r));
	ck_assert_ptr_null(vm);
	ck_assert_msg(strstr(err.message, c->message), "%s: '%s' lacks '%s'", c->file,
		      err.message, c->message);
	ck_assert_msg(strstr(err.message, c->file), "%s: message does not name the file",
		      c->file);
	ck_assert_msg(!strchr(err.message, '\n'), "%s: message is not one line", c->file);
}
END_TEST

START_TEST(test_oversize)
{
	size_t len = VM_XML_MAX_BYTES + 1;
	char *buf = malloc(len), path[] = "/tmp/memtype-test-vm-XXXXXX";
	struct mt_error err = {};
	struct vm *vm = NULL;
	int fd;

	ck_assert_ptr_nonnull(buf);
	/* A valid document padded with a comment, so only the size is wrong. */
	memset(buf, ' ', len);
	memcpy(buf, "<domain type='kvm'><name>x</name><!--", 37);
	memcpy(buf + len - 13, "--></domain>\n", 13);
	parse_fails(buf, len, -EFBIG, "more than the limit of 4194304");
	/* One byte less is accepted: the limit is the only thing in the way. */
	memcpy(buf + len - 14, "--></domain>\n", 13);
	{
		struct vm *ok = NULL;

		ck_assert_int_eq(vm_parse_xml(buf, len - 1, &ok, &err), 0);
		ck_assert_str_eq(ok->name, "x");
		vm_free(ok);
	}

	fd = mkstemp(path);
	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(write(fd, buf, len), (ssize_t)len);
	close(fd);
	ck_assert_int_eq(vm_parse_xml_file(path, &vm, &err), -EFBIG);
	ck_assert_ptr_null(vm);
	ck_assert_ptr_nonnull(strstr(err.message, "larger than the limit"));
	ck_assert_ptr_nonnull(strstr(err.message, path));
	unlink(path);
	free(buf);
}
END_TEST

START_TEST(test_hostile_inline)
{
	static const char nul[] = "<domain type='kvm'><name>a\0b</name></domain>";
	char *deep = NULL, *p;
	size_t n = 300;

	parse_fails("", 0, -EINVAL, "domain XML is empty");
	parse_fails(nul, sizeof(nul) - 1, -EINVAL, "line 1");
	parse_fails("<domain type='kvm'><name>&x;</name></domain>", 44, -EINVAL,
		    "Entity 'x' not defined");
	parse_fails("<!DOCTYPE domain SYSTEM 'http://example.org/d.dtd'><domain/>", 60, -EINVAL,
		    "must not contain a DTD");
	parse_fails("<domain type='kvm'><name>x</name>", 33, -EINVAL, "Premature end of data");
	parse_fails("<x:domain xmlns:x='urn:y' type='kvm'><name>x</name></x:domain>", 62,
		    -EINVAL, "root element is <x:domain>");
	/* Deeper than libxml2's own limit: its error, not a crash. */
	deep = malloc(n * 8 + 64);
	ck_assert_ptr_nonnull(deep);
	p = deep + sprintf(deep, "<domain type='kvm'><name>x</name>");
	for (size_t i = 0; i < n; i++)
		p += sprintf(p, "<a>");
	for (size_t i = 0; i < n; i++)
		p += sprintf(p, "</a>");
	p += sprintf(p, "</domain>");
	parse_fails(deep, (size_t)(p - deep), -EINVAL, "Excessive depth");
	free(deep);
	ck_assert_int_eq(vm_parse_xml(NULL, 0, &(struct vm *){ NULL }, NULL), -EINVAL);
}
END_TEST

/* Errors libxml2 raises outside a parser context (encoding conversion)
 * are captured too: nothing reaches stderr, and the thread's handlers are
 * restored afterwards. */
START_TEST(test_quiet_on_encoding_error)
{
	static const char doc[] = "<?xml version='1.0' encoding='ISO-2022-JP'?>"
				  "<domain type='kvm'><name>\x1b$B\xff\xff</name></domain>";
	char path[] = "/tmp/memtype-test-vm-stderr-XXXXXX";
	int fd = mkstemp(path), saved = dup(STDERR_FILENO);
	off_t written;

	ck_assert_int_ge(fd, 0);
	ck_assert_int_ge(saved, 0);
	fflush(stderr);
	ck_assert_int_ge(dup2(fd, STDERR_FILENO), 0);
	parse_fails(doc, sizeof(doc) - 1, -EINVAL, "input conversion failed due to input error");
	fflush(stderr);
	dup2(saved, STDERR_FILENO);
	close(saved);
	written = lseek(fd, 0, SEEK_END);
	close(fd);
	unlink(path);
	ck_assert_msg(written == 0, "libxml2 printed %lld bytes on stderr", (long long)written);
	ck_assert_ptr_null((void *)xmlStructuredError);
}
END_TEST

START_TEST(test_missing_file)
{
	struct mt_error err = {};
	struct vm *vm = NULL;

	ck_assert_int_eq(vm_parse_xml_file("/nonexistent/memtype/d.xml", &vm, &err), -ENOENT);
	ck_assert_ptr_null(vm);
	ck_assert_ptr_nonnull(strstr(err.message, "/nonexistent/memtype/d.xml"));
}
END_TEST

/* More than VM_MAX_DEVICES of one kind is refused; exactly as many is not. */
START_TEST(test_device_limits)
{
	static const char *const devices[] = {
		"<hostdev mode='subsystem' type='pci'><source><address bus='1' slot='0' function='0'/></source></hostdev>",
		"<video><model type='vga'/></video>",
		"<shmem name='s'/>",
	};
	static const char *const messages[] = { "more than 256 host devices", "more than 256 <video>",
						"more than 256 <shmem>" };

	for (size_t d = 0; d < ELEMENTSOF(devices); d++) {
		size_t one = strlen(devices[d]), len;
		char *body = malloc(one * (VM_MAX_DEVICES + 1) + 1), *xml;
		struct vm *vm;

		ck_assert_ptr_nonnull(body);
		for (size_t i = 0; i <= VM_MAX_DEVICES; i++)
			memcpy(body + i * one, devices[d], one);
		body[one * VM_MAX_DEVICES] = '\0';
		xml = domain_xml("", body, "");
		vm = parse_ok(xml);
		vm_free(vm);
		free(xml);
		body[one * (VM_MAX_DEVICES + 1)] = '\0';
		memcpy(body + one * VM_MAX_DEVICES, devices[d], one);
		xml = domain_xml("", body, "");
		len = strlen(xml);
		parse_fails(xml, len, -E2BIG, messages[d]);
		free(xml);
		free(body);
	}
}
END_TEST

/* ----- devices, os, cpu, launchSecurity -------------------------------- */

struct device_error_case {
	const char *devices, *tail;
	int code;
	const char *message;
};

static const struct device_error_case device_errors[] = {
	{ "<hostdev mode='subsystem' type='pci'><address type='pci' bus='0x05' slot='0' function='0'/></hostdev>",
	  "", -EINVAL, "<hostdev type='pci'> has no <source><address>" },
	{ "<hostdev mode='subsystem' type='pci'><source><address slot='0' function='0'/></source></hostdev>",
	  "", -EINVAL, "PCI address has no bus attribute" },
	{ "<hostdev mode='subsystem' type='pci'><source><address bus='0x1g' slot='0' function='0'/></source></hostdev>",
	  "", -EINVAL, "bus='0x1g' is not a number" },
	{ "<hostdev mode='subsystem' type='pci'><source><address bus='1' slot='0' function='8'/></source></hostdev>",
	  "", -ERANGE, "function='8' is out of range (at most 0x7)" },
	{ "<hostdev mode='subsystem' type='pci'><source><address domain='0x10000' bus='1' slot='0' function='0'/></source></hostdev>",
	  "", -ERANGE, "domain='0x10000' is out of range" },
	{ "<hostdev mode='subsystem' type='pci' managed='sure'><source><address bus='1' slot='0' function='0'/></source></hostdev>",
	  "", -EINVAL, "<hostdev managed='sure'>: expected yes/no or on/off" },
	{ "<hostdev mode='subsystem'><source/></hostdev>", "", -EINVAL, "<hostdev> has no type" },
	{ "<hostdev mode='subsystem' type='mdev' model='vfio-pci'><source><address uuid='nope'/></source></hostdev>",
	  "", -EINVAL, "uuid='nope' is not a valid UUID" },
	{ "<hostdev mode='subsystem' type='mdev'><source/></hostdev>", "", -EINVAL,
	  "<hostdev type='mdev'> has no <source><address>" },
	{ "<interface type='hostdev'><source><address type='usb' bus='1' port='1'/></source></interface>",
	  "", -EINVAL, "source address type='usb' is not 'pci'" },
	{ "<video><model type='vga' vram='lots'/></video>", "", -EINVAL, "<model vram='lots'> is not a number" },
	{ "<video><model type='virtio'/><driver blob='maybe'/></video>", "", -EINVAL,
	  "<driver blob='maybe'>: expected yes/no or on/off" },
	{ "<shmem><size unit='M'>4</size></shmem>", "", -EINVAL, "<shmem> has no name" },
	{ "<shmem name='x'><size unit='M'>four</size></shmem>", "", -EINVAL, "<size> 'four' is not a number" },
	{ "<shmem name='x'><size unit='E'>100</size></shmem>", "", -ERANGE, "is too large" },
	{ "", "<launchSecurity/>", -EINVAL, "<launchSecurity> has no type" },
};

START_TEST(test_device_error)
{
	const struct device_error_case *c = &device_errors[_i];
	char *xml = domain_xml("", c->devices, c->tail);

	parse_fails(xml, strlen(xml), c->code, c->message);
	free(xml);
}
END_TEST

START_TEST(test_hostdev_variants)
{
	char *xml = domain_xml("",
		/* decimal numbers, no domain: libvirt accepts both */
		"<hostdev mode='subsystem' type='pci'><source><address bus='59' slot='2' function='3'/></source></hostdev>\n"
		/* octal, as libvirt's base-0 parsing reads it */
		"<hostdev mode='subsystem' type='pci' managed='no'><source><address domain='0' bus='010' slot='0' function='0'/></source></hostdev>\n"
		"<hostdev mode='subsystem' type='usb'><source><vendor id='0x046d'/><product id='0xc52b'/></source></hostdev>\n"
		"<hostdev mode='capabilities' type='storage'><source><block>/dev/sdf1</block></source></hostdev>\n"
		"<hostdev mode='subsystem' type='scsi'><source><adapter name='scsi_host0'/><address bus='0' target='0' unit='0'/></source></hostdev>\n"
		"<interface type='network'><source network='default'/><model type='virtio'/></interface>\n"
		"<interface type='network'><source network='vf-pool'/><actual type='hostdev' managed='yes'/></interface>\n"
		"<interface type='bridge'><source bridge='br0'/></interface>\n"
		"<hostdev mode='subsystem' type='mdev' model='vfio-ap'><source><address uuid='4B20D0801B54404885B3A6A62D165C01'/></source></hostdev>\n",
		"");
	struct vm *vm = parse_ok(xml);

	ck_assert_uint_eq(vm->n_hostdevs, 4);
	ck_assert_int_eq(vm->hostdevs[0].kind, VM_HOSTDEV_PCI);
	ck_assert_str_eq(vm->hostdevs[0].bdf, "0000:3b:02.3");
	ck_assert(!vm->hostdevs[0].managed);
	ck_assert_str_eq(vm->hostdevs[1].bdf, "0000:08:00.0");
	ck_assert_int_eq(vm->hostdevs[2].kind, VM_HOSTDEV_INTERFACE_POOL);
	ck_assert_str_eq(vm->hostdevs[2].network, "vf-pool");
	ck_assert_str_eq(vm->hostdevs[2].bdf, "");
	ck_assert(vm->hostdevs[2].managed);
	ck_assert_int_eq(vm->hostdevs[3].kind, VM_HOSTDEV_MDEV);
	ck_assert_str_eq(vm->hostdevs[3].mdev_uuid, "4b20d080-1b54-4048-85b3-a6a62d165c01");
	ck_assert_str_eq(vm->hostdevs[3].mdev_model, "vfio-ap");
	vm_free(vm);
	free(xml);
}
END_TEST

START_TEST(test_video_variants)
{
	char *xml = domain_xml("",
		"<video><model type='qxl' ram='65536' vram='32768' heads='1'/></video>\n"
		"<video><model type='virtio' heads='1' primary='yes'><driver blob='on'/></model></video>\n"
		"<video><model type='gop'/></video>\n"
		"<video/>\n"
		"<video><model type='ramfb' primary='yes'/></video>\n",
		"");
	struct vm *vm = parse_ok(xml);

	ck_assert_uint_eq(vm->n_videos, 5);
	ck_assert_int_eq(vm->videos[0].model, VIDEO_MODEL_QXL);
	ck_assert_uint_eq(vm->videos[0].vram_kib, 32768);  /* no vgamem: vram */
	ck_assert(!vm->videos[0].primary);
	ck_assert_int_eq(vm->videos[1].model, VIDEO_MODEL_VIRTIO);
	ck_assert(vm->videos[1].primary);
	ck_assert(vm->videos[1].blob);                     /* under <model> */
	ck_assert_int_eq(vm->videos[2].model, VIDEO_MODEL_OTHER);
	ck_assert_int_eq(vm->videos[3].model, VIDEO_MODEL_OTHER);
	ck_assert_int_eq(vm->videos[4].model, VIDEO_MODEL_RAMFB);
	ck_assert(!vm->videos[4].primary);                 /* only one primary */
	vm_free(vm);
	free(xml);
}
END_TEST

struct domain_case {
	const char *xml;
	enum vm_firmware firmware;
	enum launch_security launch_security;
	const char *cpu_mode, *uuid;
};

static const struct domain_case domain_cases[] = {
	{ "<domain type='qemu'><name>a</name><os firmware='bios'><type>hvm</type></os></domain>",
	  VM_FIRMWARE_BIOS, LAUNCH_SECURITY_NONE, "", "" },
	{ "<domain type='kvm'><name>a</name><os><type arch='aarch64' machine='virt'>hvm</type></os></domain>",
	  VM_FIRMWARE_UNKNOWN, LAUNCH_SECURITY_NONE, "", "" },
	{ "<domain type='kvm'><name>a</name><os><loader type='rom'>/usr/share/seabios/bios-256k.bin</loader></os></domain>",
	  VM_FIRMWARE_BIOS, LAUNCH_SECURITY_NONE, "", "" },
	{ "<domain type='kvm'><name>a</name><os><loader type='rom'>/opt/fw/custom.fd</loader></os></domain>",
	  VM_FIRMWARE_UNKNOWN, LAUNCH_SECURITY_NONE, "", "" },
	{ "<domain type='kvm'><name>a</name><os><loader readonly='yes' type='pflash'>/opt/fw/code.fd</loader></os></domain>",
	  VM_FIRMWARE_EFI, LAUNCH_SECURITY_NONE, "", "" },
	{ "<domain type='kvm'><name>a</name><cpu><model>EPYC</model></cpu><launchSecurity type='sev'><policy>0x0003</policy></launchSecurity></domain>",
	  VM_FIRMWARE_UNKNOWN, LAUNCH_SECURITY_SEV, "custom", "" },
	{ "<domain type='kvm'><name>a</name><launchSecurity type='s390-pv'/></domain>",
	  VM_FIRMWARE_UNKNOWN, LAUNCH_SECURITY_OTHER, "", "" },
	{ "<domain type='kvm'><name> a </name><uuid>2C3D4E5F60714283894A5B6C7D8E9FA0</uuid></domain>",
	  VM_FIRMWARE_UNKNOWN, LAUNCH_SECURITY_NONE, "", "2c3d4e5f-6071-4283-894a-5b6c7d8e9fa0" },
};

START_TEST(test_domain_case)
{
	const struct domain_case *c = &domain_cases[_i];
	struct vm *vm = parse_ok(c->xml);

	ck_assert_str_eq(vm->name, "a");
	ck_assert_int_eq(vm->firmware, c->firmware);
	ck_assert_int_eq(vm->launch_security, c->launch_security);
	ck_assert_str_eq(vm->cpu_mode, c->cpu_mode);
	ck_assert_str_eq(vm->uuid, c->uuid);
	vm_free(vm);
}
END_TEST

START_TEST(test_domain_errors)
{
	static const struct {
		const char *xml;
		int code;
		const char *message;
	} cases[] = {
		{ "<domain type='kvm'><name>  </name></domain>", -EINVAL, "<name> is empty" },
		{ "<domain type=''><name>a</name></domain>", -EINVAL, "<domain> has no type" },
		{ "<domain type='kvm'><name>a</name><os firmware='coreboot'/></domain>", -EINVAL,
		  "<os firmware='coreboot'>: expected 'efi' or 'bios'" },
		{ "<domain type='kvm'><name>a</name><uuid>2c3d4e5f-6071-4283-894a-5b6c7d8e9fa</uuid></domain>",
		  -EINVAL, "is not a valid UUID" },
		{ "<domain type='kvm'><name>a</name><uuid>2c3d4e5f6-071-4283-894a-5b6c7d8e9fa0</uuid></domain>",
		  -EINVAL, "is not a valid UUID" },
		{ "<domain type='averyveryverylongtype'><name>a</name></domain>", -ENAMETOOLONG,
		  "is longer than 15 bytes" },
	};

	for (size_t i = 0; i < ELEMENTSOF(cases); i++)
		parse_fails(cases[i].xml, strlen(cases[i].xml), cases[i].code, cases[i].message);
}
END_TEST

/* ----- QEMU passthrough ------------------------------------------------- */

#define VIRTIO_VIDEO "<video><model type='virtio' heads='1' primary='yes'/></video>"
#define VGA_VIDEO "<video><model type='vga' vram='16384' primary='yes'/></video>"
#define ARG(v) "<qemu:arg value='" v "'/>"
#define CMDLINE(args) "<qemu:commandline>" args "</qemu:commandline>"

struct qemu_case {
	const char *ns, *devices, *tail;
	uint64_t hostmem_bytes;
	bool venus;
};

static const struct qemu_case qemu_cases[] = {
	/* -set on libvirt's own virtio video, by its default alias */
	{ QEMU_NS, VIRTIO_VIDEO, CMDLINE(ARG("-set") ARG("device.video0.hostmem=2G")), 2 * GiB, false },
	/* ... but not on a std VGA */
	{ QEMU_NS, VGA_VIDEO, CMDLINE(ARG("-set") ARG("device.video0.hostmem=2G")), 0, false },
	/* a user alias names the device instead */
	{ QEMU_NS, "<video><model type='virtio'/><alias name='ua-gpu'/></video>",
	  CMDLINE(ARG("-set") ARG("device.ua-gpu.hostmem=1G") ARG("-set") ARG("device.ua-gpu.venus=on")),
	  GiB, true },
	/* -set before the -device it names still applies */
	{ QEMU_NS, "", CMDLINE(ARG("-set") ARG("device.g.hostmem=3G") ARG("-device") ARG("virtio-gpu-gl-pci,id=g")),
	  3 * GiB, false },
	/* -global reaches libvirt's virtio video, whichever virtio-gpu driver libvirt picks */
	{ QEMU_NS, VIRTIO_VIDEO, CMDLINE(ARG("-global") ARG("virtio-vga-gl.hostmem=1G")), GiB, false },
	{ QEMU_NS, VIRTIO_VIDEO, CMDLINE(ARG("-global") ARG("driver=virtio-vga,property=hostmem,value=512M")),
	  512ULL << 20, false },
	/* ... not a VM without any virtio-gpu */
	{ QEMU_NS, VGA_VIDEO, CMDLINE(ARG("-global") ARG("virtio-gpu-gl-pci.hostmem=1G")), 0, false },
	/* ... nor a -device of another virtio-gpu driver */
	{ QEMU_NS, "", CMDLINE(ARG("-device") ARG("virtio-gpu-pci") ARG("-global") ARG("virtio-gpu-gl-pci.hostmem=1G")),
	  0, false },
	/* the device's own value wins over -global, whatever the order */
	{ QEMU_NS, "", CMDLINE(ARG("-global") ARG("virtio-gpu-gl-pci.hostmem=8G")
			       ARG("-device") ARG("virtio-gpu-gl-pci,hostmem=2G")), 2 * GiB, false },
	/* two dashes, fractions, the largest window of two */
	{ QEMU_NS, "", CMDLINE(ARG("--device") ARG("virtio-gpu-gl-pci,hostmem=1.5G,venus=yes")
			       ARG("-device") ARG("virtio-vga-gl,hostmem=256M")), 3 * GiB / 2, true },
	/* ",," is a comma inside a value: hostmem here is part of serial= */
	{ QEMU_NS, "", CMDLINE(ARG("-device") ARG("virtio-vga-gl,serial=a,,hostmem=64G")), 0, false },
	{ QEMU_NS, "", CMDLINE(ARG("-device") ARG("virtio-vga-gl,id=a,,b,hostmem=1G")
			       ARG("-set") ARG("device.a,b.venus=true")), GiB, true },
	/* flags: "venus" is venus=on, "novenus" venus=off */
	{ QEMU_NS, "", CMDLINE(ARG("-device") ARG("virtio-vga-gl,hostmem=1G,venus")), GiB, true },
	{ QEMU_NS, "", CMDLINE(ARG("-device") ARG("virtio-vga-gl,hostmem=1G,venus,novenus")), GiB, false },
	/* hostmem=0 maps nothing */
	{ QEMU_NS, "", CMDLINE(ARG("-device") ARG("virtio-vga-gl,hostmem=0")), 0, false },
	/* the JSON form of -device */
	{ QEMU_NS, "", CMDLINE(ARG("-device")
			       ARG("{&quot;driver&quot;:&quot;virtio-gpu-gl-pci&quot;,&quot;hostmem&quot;:1073741824,&quot;venus&quot;:true}")),
	  GiB, true },
	/* other devices' properties are theirs */
	{ QEMU_NS, "", CMDLINE(ARG("-device") ARG("ivshmem-plain,memdev=m,hostmem=4G,venus=on")), 0, false },
	/* the namespace is matched by URI, not by prefix */
	{ " xmlns:q='http://libvirt.org/schemas/domain/qemu/1.0'", "",
	  "<q:commandline><q:arg value='-device'/><q:arg value='virtio-vga-gl,hostmem=1G'/></q:commandline>",
	  GiB, false },
	{ " xmlns:qemu='http://example.org/not-qemu'", "", CMDLINE(ARG("-device") ARG("virtio-vga-gl,hostmem=1G")),
	  0, false },
	/* qemu:override: 'remove' drops a property, unknown aliases are left alone */
	{ QEMU_NS, VIRTIO_VIDEO,
	  "<qemu:override><qemu:device alias='video0'><qemu:frontend>"
	  "<qemu:property name='hostmem' type='unsigned' value='1073741824'/>"
	  "<qemu:property name='hostmem' type='remove'/>"
	  "</qemu:frontend></qemu:device></qemu:override>", 0, false },
	{ QEMU_NS, VIRTIO_VIDEO,
	  "<qemu:override><qemu:device alias='video1'><qemu:frontend>"
	  "<qemu:property name='hostmem' type='unsigned' value='1073741824'/>"
	  "</qemu:frontend></qemu:device></qemu:override>", 0, false },
	{ QEMU_NS, VIRTIO_VIDEO,
	  "<qemu:override><qemu:device alias='video0'><qemu:frontend>"
	  "<qemu:property name='hostmem' type='string' value='2G'/>"
	  "<qemu:property name='venus' type='bool' value='false'/>"
	  "</qemu:frontend></qemu:device></qemu:override>", 2 * GiB, false },
};

START_TEST(test_qemu_case)
{
	const struct qemu_case *c = &qemu_cases[_i];
	char *xml = domain_xml(c->ns, c->devices, c->tail);
	struct vm *vm = parse_ok(xml);

	ck_assert_msg(vm->hostmem_bytes == c->hostmem_bytes, "case %d: hostmem %llu, want %llu",
		      _i, (unsigned long long)vm->hostmem_bytes,
		      (unsigned long long)c->hostmem_bytes);
	ck_assert_msg(vm->virtio_gpu_hostmem == (c->hostmem_bytes > 0), "case %d: hostmem flag", _i);
	ck_assert_msg(vm->venus == c->venus, "case %d: venus %d", _i, vm->venus);
	vm_free(vm);
	free(xml);
}
END_TEST

static const struct device_error_case qemu_errors[] = {
	/* names the argument in full */
	{ "", CMDLINE(ARG("-device") ARG("virtio-vga-gl,hostmem=4Q")), -EINVAL,
	  "-device 'virtio-vga-gl,hostmem=4Q': hostmem='4Q' is not a valid size" },
	{ "", CMDLINE(ARG("-device") ARG("virtio-vga-gl,hostmem=-1")), -EINVAL,
	  "hostmem='-1' is not a valid size" },
	{ "", CMDLINE(ARG("-device") ARG("virtio-vga-gl,hostmem=99999999999G")), -EINVAL,
	  "hostmem='99999999999G' is not a valid size" },
	{ "", CMDLINE(ARG("-device") ARG("virtio-vga-gl,venus=maybe")), -EINVAL,
	  "venus='maybe' is not a boolean" },
	{ "", CMDLINE(ARG("-device") ARG("virtio-vga-gl,=1")), -EINVAL, "empty property name" },
	{ "", CMDLINE(ARG("-device")), -EINVAL, "<qemu:arg value='-device'> is not followed by its value" },
	{ "", CMDLINE(ARG("-set") ARG("device.video0")), -EINVAL, "-set expects GROUP.ID.PROPERTY=VALUE" },
	{ "", CMDLINE(ARG("-global") ARG("hostmem")), -EINVAL, "-global expects DRIVER.PROPERTY=VALUE" },
	{ "", CMDLINE(ARG("-global") ARG("virtio-gpu-gl-pci.hostmem=1Z")), -EINVAL,
	  "-global 'virtio-gpu-gl-pci.hostmem=1Z': hostmem='1Z' is not a valid size" },
	{ "", CMDLINE(ARG("-device") ARG("{&quot;driver&quot;:")), -EINVAL, "is not a JSON object" },
	{ "", CMDLINE(ARG("-device") ARG("{&quot;driver&quot;:&quot;virtio-vga-gl&quot;,&quot;hostmem&quot;:-5}")),
	  -EINVAL, "hostmem='-5' is not a valid size" },
	{ "", CMDLINE("<qemu:arg/>"), -EINVAL, "<qemu:arg> has no value attribute" },
	{ VIRTIO_VIDEO, "<qemu:override><qemu:device alias='video0'><qemu:frontend>"
	  "<qemu:property name='venus' type='bool' value='yes'/></qemu:frontend></qemu:device></qemu:override>",
	  -EINVAL, "value 'yes' is not true or false" },
	{ VIRTIO_VIDEO, "<qemu:override><qemu:device alias='video0'><qemu:frontend>"
	  "<qemu:property name='hostmem' type='unsigned' value='big'/></qemu:frontend></qemu:device></qemu:override>",
	  -EINVAL, "<qemu:property>: hostmem='big' is not a valid size" },
	{ VIRTIO_VIDEO, "<qemu:override><qemu:device alias='video0'><qemu:frontend>"
	  "<qemu:property type='unsigned' value='1'/></qemu:frontend></qemu:device></qemu:override>",
	  -EINVAL, "<qemu:property> has no name" },
};

START_TEST(test_qemu_error)
{
	const struct device_error_case *c = &qemu_errors[_i];
	char *xml = domain_xml(QEMU_NS, c->devices, c->tail);

	parse_fails(xml, strlen(xml), c->code, c->message);
	free(xml);
}
END_TEST

/* ----- parsers of QEMU and libvirt syntax ------------------------------- */

START_TEST(test_qemu_parse_size)
{
	static const struct {
		const char *s;
		int r;
		uint64_t v;
	} cases[] = {
		{ "0", 0, 0 },
		{ "4096", 0, 4096 },
		{ "4096B", 0, 4096 },
		{ "4k", 0, 4096 },
		{ "4K", 0, 4096 },
		{ "4M", 0, 4ULL << 20 },
		{ "4G", 0, 4 * GiB },
		{ "4g", 0, 4 * GiB },
		{ "2T", 0, 2ULL << 40 },
		{ "1P", 0, 1ULL << 50 },
		{ "15E", 0, 15ULL << 60 },
		{ "1.5G", 0, 3 * GiB / 2 },
		{ "0.5k", 0, 512 },
		{ "0x1000", 0, 0x1000 },
		{ "16E", -ERANGE, 0 },
		{ "18446744073709551616", -ERANGE, 0 },
		{ "1.5", -EINVAL, 0 },
		{ "1.5B", -EINVAL, 0 },
		{ "4Q", -EINVAL, 0 },
		{ "4GB", -EINVAL, 0 },
		{ "4 G", -EINVAL, 0 },
		{ "-1", -EINVAL, 0 },
		{ "", -EINVAL, 0 },
		{ "G", -EINVAL, 0 },
		{ "1.", -EINVAL, 0 },
		{ "0x", -EINVAL, 0 },
	};

	for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
		uint64_t v = 12345;
		int r = qemu_parse_size(cases[i].s, &v);

		ck_assert_msg(r == cases[i].r, "'%s': %d, want %d", cases[i].s, r, cases[i].r);
		ck_assert_msg(r < 0 ? v == 12345 : v == cases[i].v, "'%s': value %llu", cases[i].s,
			      (unsigned long long)v);
	}
}
END_TEST

START_TEST(test_qemu_parse_bool)
{
	static const char *const yes[] = { "on", "yes", "true", "y" };
	static const char *const no[] = { "off", "no", "false", "n" };
	static const char *const bad[] = { "", "1", "0", "On", "enable" };
	bool b;

	for (size_t i = 0; i < ELEMENTSOF(yes); i++) {
		b = false;
		ck_assert_int_eq(qemu_parse_bool(yes[i], &b), 0);
		ck_assert(b);
		ck_assert_int_eq(qemu_parse_bool(no[i], &b), 0);
		ck_assert(!b);
	}
	for (size_t i = 0; i < ELEMENTSOF(bad); i++)
		ck_assert_int_eq(qemu_parse_bool(bad[i], &b), -EINVAL);
}
END_TEST

START_TEST(test_qemu_opts)
{
	struct qemu_opts o = {};

	ck_assert_int_eq(qemu_opts_parse("virtio-vga-gl,id=a,,b,hostmem=4G,,x,blob,nodebug,", "driver", &o), 0);
	ck_assert_uint_eq(o.n_opts, 5);
	ck_assert_str_eq(qemu_opts_get(&o, "driver"), "virtio-vga-gl");
	ck_assert_str_eq(qemu_opts_get(&o, "id"), "a,b");
	ck_assert_str_eq(qemu_opts_get(&o, "hostmem"), "4G,x");
	ck_assert_str_eq(qemu_opts_get(&o, "blob"), "on");
	ck_assert_str_eq(qemu_opts_get(&o, "debug"), "off");
	ck_assert_ptr_null(qemu_opts_get(&o, "venus"));
	qemu_opts_done(&o);

	/* The last occurrence wins; a driver given by key is not implied. */
	ck_assert_int_eq(qemu_opts_parse("driver=virtio-gpu-pci,hostmem=1G,hostmem=2G", "driver", &o), 0);
	ck_assert_str_eq(qemu_opts_get(&o, "driver"), "virtio-gpu-pci");
	ck_assert_str_eq(qemu_opts_get(&o, "hostmem"), "2G");
	qemu_opts_done(&o);

	ck_assert_int_eq(qemu_opts_parse("a,=b", "driver", &o), -EINVAL);
	ck_assert_uint_eq(o.n_opts, 0);
	ck_assert_int_eq(qemu_opts_parse("", "driver", &o), 0);
	ck_assert_uint_eq(o.n_opts, 0);
	qemu_opts_done(&o);
	ck_assert(qemu_driver_is_virtio_gpu("virtio-gpu-rutabaga-pci"));
	ck_assert(qemu_driver_is_virtio_gpu("virtio-vga"));
	ck_assert(!qemu_driver_is_virtio_gpu("virtio-net-pci"));
	ck_assert(!qemu_driver_is_virtio_gpu(NULL));
}
END_TEST

START_TEST(test_libvirt_scale)
{
	static const struct {
		uint64_t value;
		const char *unit;
		int r;
		uint64_t want;
	} cases[] = {
		{ 32, NULL, 0, 32 },
		{ 32, "", 0, 32 },
		{ 32, "b", 0, 32 },
		{ 32, "bytes", 0, 32 },
		{ 32, "k", 0, 32768 },
		{ 32, "KiB", 0, 32768 },
		{ 32, "KB", 0, 32000 },
		{ 32, "M", 0, 32ULL << 20 },
		{ 32, "MiB", 0, 32ULL << 20 },
		{ 32, "mb", 0, 32000000 },
		{ 2, "G", 0, 2 * GiB },
		{ 2, "GB", 0, 2000000000 },
		{ 1, "TiB", 0, 1ULL << 40 },
		{ 1, "PB", 0, 1000000000000000ULL },
		{ 15, "EiB", 0, 15ULL << 60 },
		{ 16, "EiB", -ERANGE, 0 },
		{ 32, "MX", -EINVAL, 0 },
		{ 32, "Mi", -EINVAL, 0 },
		{ 32, "x", -EINVAL, 0 },
	};

	for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
		uint64_t v = 7;
		int r = libvirt_scale(cases[i].value, cases[i].unit, &v);

		ck_assert_msg(r == cases[i].r, "%llu %s: %d", (unsigned long long)cases[i].value,
			      cases[i].unit ?: "(null)", r);
		ck_assert_uint_eq(v, r < 0 ? 7 : cases[i].want);
	}
}
END_TEST

START_TEST(test_uuid_normalize)
{
	static const struct {
		const char *in, *out;
	} cases[] = {
		{ "2c3d4e5f-6071-4283-894a-5b6c7d8e9fa0", "2c3d4e5f-6071-4283-894a-5b6c7d8e9fa0" },
		{ "2C3D4E5F-6071-4283-894A-5B6C7D8E9FA0", "2c3d4e5f-6071-4283-894a-5b6c7d8e9fa0" },
		{ "2c3d4e5f60714283894a5b6c7d8e9fa0", "2c3d4e5f-6071-4283-894a-5b6c7d8e9fa0" },
		{ "2c3d4e5f-6071-4283-894a-5b6c7d8e9fa", NULL },
		{ "2c3d4e5f-6071-4283-894a-5b6c7d8e9fa00", NULL },
		{ "2c3d4e5f-60714283-894a-5b6c7d8e9fa0-", NULL },
		{ "2c3d4e5g60714283894a5b6c7d8e9fa0", NULL },
		{ "", NULL },
	};

	for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
		char out[MT_UUID_MAX] = "untouched";
		int r = uuid_normalize(cases[i].in, out);

		if (cases[i].out) {
			ck_assert_int_eq(r, 0);
			ck_assert_str_eq(out, cases[i].out);
		} else {
			ck_assert_msg(r == -EINVAL, "'%s' accepted", cases[i].in);
		}
	}
}
END_TEST

START_TEST(test_json_and_free)
{
	json_object *o = NULL;
	struct vm *vm = parse_ok("<domain type='kvm'><name>a</name></domain>");

	vm_free(NULL);
	ck_assert_int_eq(vm_to_json(NULL, &o), -EINVAL);
	ck_assert_ptr_null(o);
	ck_assert_int_eq(vm_to_json(vm, &o), 0);
	/* Unset strings are null, not "". */
	ck_assert(json_object_object_get_ex(o, "uuid", NULL));
	ck_assert_ptr_null(json_object_object_get(o, "uuid"));
	ck_assert_ptr_null(json_object_object_get(o, "cpu_mode"));
	ck_assert_str_eq(json_str(o, "firmware"), "unknown");
	json_object_put(o);
	vm_free(vm);
}
END_TEST

static Suite *vm_suite(void)
{
	Suite *s = suite_create("vm");
	TCase *tc = tcase_create("fixtures");

	tcase_add_loop_test(tc, test_fixture, 0, ELEMENTSOF(fixtures));
	tcase_add_loop_test(tc, test_fixture_json, 0, ELEMENTSOF(fixtures));
	tcase_add_loop_test(tc, test_bad_fixture, 0, ELEMENTSOF(bad_fixtures));
	suite_add_tcase(s, tc);

	tc = tcase_create("limits");
	tcase_add_test(tc, test_oversize);
	tcase_add_test(tc, test_hostile_inline);
	tcase_add_test(tc, test_missing_file);
	tcase_add_test(tc, test_quiet_on_encoding_error);
	tcase_add_test(tc, test_device_limits);
	suite_add_tcase(s, tc);

	tc = tcase_create("elements");
	tcase_add_loop_test(tc, test_device_error, 0, ELEMENTSOF(device_errors));
	tcase_add_test(tc, test_hostdev_variants);
	tcase_add_test(tc, test_video_variants);
	tcase_add_loop_test(tc, test_domain_case, 0, ELEMENTSOF(domain_cases));
	tcase_add_test(tc, test_domain_errors);
	tcase_add_test(tc, test_json_and_free);
	suite_add_tcase(s, tc);

	tc = tcase_create("qemu");
	tcase_add_loop_test(tc, test_qemu_case, 0, ELEMENTSOF(qemu_cases));
	tcase_add_loop_test(tc, test_qemu_error, 0, ELEMENTSOF(qemu_errors));
	tcase_add_test(tc, test_qemu_parse_size);
	tcase_add_test(tc, test_qemu_parse_bool);
	tcase_add_test(tc, test_qemu_opts);
	tcase_add_test(tc, test_libvirt_scale);
	tcase_add_test(tc, test_uuid_normalize);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(vm_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
