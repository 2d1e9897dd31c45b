/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Unit tests of common/ and the small helpers of the model. */
#include <check.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/error.h"
#include "common/fileio.h"
#include "common/json-util.h"
#include "policy/model.h"

START_TEST(test_parse_u64)
{
	uint64_t v;

	ck_assert_int_eq(parse_u64("0x5ff", 0, &v), 0);
	ck_assert_uint_eq(v, 0x5ff);
	ck_assert_int_eq(parse_u64("d2008c40660462", 16, &v), 0);
	ck_assert_uint_eq(v, 0xd2008c40660462ULL);
	ck_assert_int_eq(parse_u64("12x", 0, &v), -EINVAL);
	ck_assert_int_eq(parse_u64("", 0, &v), -EINVAL);
	ck_assert_int_eq(parse_u64("-1", 0, &v), -EINVAL);
	ck_assert_int_eq(parse_u64("+1", 0, &v), -EINVAL);
	ck_assert_int_eq(parse_u64("\t1", 0, &v), -EINVAL);
	ck_assert_int_eq(parse_u64(" 1", 0, &v), -EINVAL);
	ck_assert_int_eq(parse_u64("0x1ffffffffffffffff", 0, &v), -ERANGE);
}
END_TEST

START_TEST(test_root_path)
{
	char buf[64];

	ck_assert_int_eq(root_path("/", "/proc/cpuinfo", buf, sizeof(buf)), 0);
	ck_assert_str_eq(buf, "/proc/cpuinfo");
	ck_assert_int_eq(root_path(NULL, "/proc/cpuinfo", buf, sizeof(buf)), 0);
	ck_assert_str_eq(buf, "/proc/cpuinfo");
	ck_assert_int_eq(root_path("/tmp/r", "/proc/cpuinfo", buf, sizeof(buf)), 0);
	ck_assert_str_eq(buf, "/tmp/r/proc/cpuinfo");
	ck_assert_int_eq(root_path("/tmp/r/", "/proc/cpuinfo", buf, sizeof(buf)), 0);
	ck_assert_str_eq(buf, "/tmp/r/proc/cpuinfo");
	ck_assert_int_eq(root_path("/a/very/long/root/that/does/not/fit", "/proc/sys/kernel/osrelease", buf, 32),
			 -ENAMETOOLONG);
}
END_TEST

START_TEST(test_read_file_bounded)
{
	char path[] = "/tmp/memtype-test-XXXXXX";
	char *buf = NULL;
	size_t len = 0;
	char line[16];
	int fd = mkstemp(path);

	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(write(fd, "hello\nworld\n", 12), 12);
	close(fd);
	ck_assert_int_eq(read_file_bounded(path, 100, &buf, &len), 0);
	ck_assert_uint_eq(len, 12);
	ck_assert_str_eq(buf, "hello\nworld\n");
	free(buf);
	buf = NULL;
	ck_assert_int_eq(read_file_bounded(path, 4, &buf, &len), -EFBIG);
	ck_assert_ptr_null(buf);
	ck_assert_int_eq(read_one_line(path, line, sizeof(line)), 0);
	ck_assert_str_eq(line, "hello");
	unlink(path);
	ck_assert_int_eq(read_file_bounded(path, 100, &buf, &len), -ENOENT);
}
END_TEST

START_TEST(test_error_first_wins)
{
	struct mt_error e = { 0 };

	ck_assert_int_eq(mt_error_set(&e, -EINVAL, "bad %s", "thing"), -EINVAL);
	ck_assert_int_eq(mt_error_set(&e, -ENOENT, "later"), -ENOENT);
	ck_assert_int_eq(e.code, -EINVAL);
	ck_assert_str_eq(mt_error_message(&e, -ENOENT), "bad thing");
	ck_assert_str_eq(mt_error_message(NULL, -ENOENT), strerror(ENOENT));
	ck_assert_int_eq(mt_error_set(NULL, -EIO, "ignored"), -EIO);
}
END_TEST

START_TEST(test_kernel_version)
{
	struct kernel_version k;

	ck_assert_int_eq(kernel_version_parse("6.12.117+deb12-amd64", &k), 0);
	ck_assert_uint_eq(k.major, 6);
	ck_assert_uint_eq(k.minor, 12);
	ck_assert_uint_eq(k.patch, 117);
	ck_assert_int_eq(kernel_version_cmp(&k, 6, 12), 0);
	ck_assert_int_lt(kernel_version_cmp(&k, 6, 15), 0);
	ck_assert_int_gt(kernel_version_cmp(&k, 6, 1), 0);
	ck_assert_int_eq(kernel_version_parse("6.1", &k), 0);
	ck_assert_uint_eq(k.patch, 0);
	ck_assert_int_eq(kernel_version_parse("6.18.44-fc-v669", &k), 0);
	ck_assert_uint_eq(k.minor, 18);
	ck_assert_int_eq(kernel_version_parse("6", &k), -EINVAL);
	ck_assert_int_eq(kernel_version_parse("linux", &k), -EINVAL);
	ck_assert_int_eq(kernel_version_parse("", &k), -EINVAL);
	ck_assert_int_eq(kernel_version_parse("99999999.1", &k), -EINVAL);
}
END_TEST

START_TEST(test_bdf)
{
	char out[MT_BDF_MAX];

	ck_assert_int_eq(bdf_normalize("0000:01:00.0", out), 0);
	ck_assert_str_eq(out, "0000:01:00.0");
	ck_assert_int_eq(bdf_normalize("3B:00.1", out), 0);
	ck_assert_str_eq(out, "0000:3b:00.1");
	ck_assert_int_eq(bdf_normalize("0001:ff:1f.7", out), 0);
	ck_assert_str_eq(out, "0001:ff:1f.7");
	ck_assert_int_eq(bdf_normalize("00:20.0", out), -EINVAL);
	ck_assert_int_eq(bdf_normalize("00:01.8", out), -EINVAL);
	ck_assert_int_eq(bdf_normalize("0000:01:00.0x", out), -EINVAL);
	ck_assert_int_eq(bdf_normalize("garbage", out), -EINVAL);
}
END_TEST

/* Domains beyond 16 bits (Intel VMD) and what sscanf("%x") would let in. */
START_TEST(test_bdf_wide_domains)
{
	static const struct {
		const char *in, *out;      /* out NULL: -EINVAL */
	} cases[] = {
		{ "10000:e1:00.0", "10000:e1:00.0" },
		{ "1000D:01:00.7", "1000d:01:00.7" },
		{ "fffff:ff:1f.7", "fffff:ff:1f.7" },
		{ "1:02:03.4", "0001:02:03.4" },
		{ "00001:00:02.0", "0001:00:02.0" },
		{ "100000:00:00.0", NULL },
		{ "123:00.0", NULL },
		{ "-1:00:00.0", NULL },
		{ "0x10:00:00.0", NULL },
		{ " 0000:00:00.0", NULL },
		{ "0000:+1:00.0", NULL },
		{ "0000:001:00.0", NULL },
		{ "0000:00:00.", NULL },
		{ "0000:00:00", NULL },
		{ "0000:00:", NULL },
		{ "", NULL },
	};

	for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
		char out[MT_BDF_MAX] = "";
		int r = bdf_normalize(cases[i].in, out);

		ck_assert_msg(r == (cases[i].out ? 0 : -EINVAL), "bdf_normalize(\"%s\") = %d", cases[i].in, r);
		if (cases[i].out)
			ck_assert_str_eq(out, cases[i].out);
	}
}
END_TEST

START_TEST(test_names)
{
	ck_assert_str_eq(cpu_vendor_to_string(CPU_VENDOR_INTEL), "intel");
	ck_assert_str_eq(cpu_vendor_to_string((enum cpu_vendor)42), "invalid");
	ck_assert_int_eq(policy_mode_from_string("performance"), POLICY_MODE_PERFORMANCE);
	ck_assert_int_eq(policy_mode_from_string("fast"), -EINVAL);
	ck_assert_int_eq(quirk_setting_from_string("disable"), QUIRK_SETTING_DISABLE);
	ck_assert_int_eq(video_model_from_string("cirrus"), VIDEO_MODEL_CIRRUS);
	ck_assert_str_eq(launch_security_to_string(LAUNCH_SECURITY_SEV_SNP), "sev-snp");
}
END_TEST

/* Each adder on an empty object, and the document it leaves. */
static int add_string_empty(struct json_object *o) { return mt_json_add_string_or_null(o, "k", ""); }
static int add_string_unset(struct json_object *o) { return mt_json_add_string_or_null(o, "k", NULL); }
static int add_string_set(struct json_object *o) { return mt_json_add_string_or_null(o, "k", "dmar0"); }
static int add_string_missing(struct json_object *o) { return mt_json_add_string(o, "k", NULL); }
static int add_string_blank(struct json_object *o) { return mt_json_add_string(o, "k", ""); }
static int add_tristate_unknown(struct json_object *o) { return mt_json_add_tristate(o, "k", MT_UNKNOWN); }
static int add_tristate_no(struct json_object *o) { return mt_json_add_tristate(o, "k", MT_NO); }
static int add_tristate_yes(struct json_object *o) { return mt_json_add_tristate(o, "k", MT_YES); }
static int add_hex_zero(struct json_object *o) { return mt_json_add_hex(o, "k", 0); }
static int add_hex_ecap(struct json_object *o) { return mt_json_add_hex(o, "k", 0xd2008c40660462ULL); }
static int add_hex_max(struct json_object *o) { return mt_json_add_hex(o, "k", UINT64_MAX); }
static int add_u64_max(struct json_object *o) { return mt_json_add_u64(o, "k", UINT64_MAX); }
static int add_bool_false(struct json_object *o) { return mt_json_add_bool(o, "k", false); }
static int add_null(struct json_object *o) { return mt_json_add_null(o, "k"); }
static int add_failed_allocation(struct json_object *o) { return mt_json_add(o, "k", NULL); }

START_TEST(test_json_adders)
{
	static const struct {
		const char *what;
		int (*add)(struct json_object *o);
		int ret;
		const char *doc;
	} cases[] = {
		{ "string_or_null \"\"", add_string_empty, 0, "{\"k\":null}" },
		{ "string_or_null NULL", add_string_unset, 0, "{\"k\":null}" },
		{ "string_or_null set", add_string_set, 0, "{\"k\":\"dmar0\"}" },
		{ "string NULL", add_string_missing, -EINVAL, "{}" },
		{ "string \"\"", add_string_blank, 0, "{\"k\":\"\"}" },
		{ "tristate unknown", add_tristate_unknown, 0, "{\"k\":null}" },
		{ "tristate no", add_tristate_no, 0, "{\"k\":false}" },
		{ "tristate yes", add_tristate_yes, 0, "{\"k\":true}" },
		{ "hex 0", add_hex_zero, 0, "{\"k\":\"0x0\"}" },
		{ "hex ecap", add_hex_ecap, 0, "{\"k\":\"0xd2008c40660462\"}" },
		{ "hex max", add_hex_max, 0, "{\"k\":\"0xffffffffffffffff\"}" },
		{ "u64 max", add_u64_max, 0, "{\"k\":18446744073709551615}" },
		{ "bool false", add_bool_false, 0, "{\"k\":false}" },
		{ "null", add_null, 0, "{\"k\":null}" },
		{ "failed allocation", add_failed_allocation, -ENOMEM, "{}" },
	};

	for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
		_cleanup_json_ struct json_object *o = json_object_new_object();
		int r;

		ck_assert_ptr_nonnull(o);
		r = cases[i].add(o);
		ck_assert_msg(r == cases[i].ret, "%s: returned %d, expected %d", cases[i].what, r, cases[i].ret);
		ck_assert_msg(streq(json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN), cases[i].doc),
			      "%s: %s, expected %s", cases[i].what,
			      json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN), cases[i].doc);
	}
}
END_TEST

/* Appending takes the value over; a NULL value is a failed allocation that
 * leaves the array as it was. */
START_TEST(test_json_append)
{
	_cleanup_json_ struct json_object *a = json_object_new_array();
	_cleanup_json_ struct json_object *o = json_object_new_object();

	ck_assert_ptr_nonnull(a);
	ck_assert_ptr_nonnull(o);
	ck_assert_int_eq(mt_json_append(a, mt_json_new_hex(0x5ff)), 0);
	ck_assert_int_eq(mt_json_append(a, NULL), -ENOMEM);
	ck_assert_int_eq(mt_json_append(a, json_object_new_int(7)), 0);
	ck_assert_str_eq(json_object_to_json_string_ext(a, JSON_C_TO_STRING_PLAIN), "[\"0x5ff\",7]");
	ck_assert_int_eq(mt_json_add(o, "list", TAKE_PTR(a)), 0);
	ck_assert_int_eq(mt_json_add_string_or_null(o, "unit", "dmar1"), 0);
	ck_assert_str_eq(json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN),
			 "{\"list\":[\"0x5ff\",7],\"unit\":\"dmar1\"}");
}
END_TEST

static Suite *common_suite(void)
{
	Suite *s = suite_create("common");
	TCase *tc = tcase_create("core");

	tcase_add_test(tc, test_parse_u64);
	tcase_add_test(tc, test_root_path);
	tcase_add_test(tc, test_read_file_bounded);
	tcase_add_test(tc, test_error_first_wins);
	tcase_add_test(tc, test_kernel_version);
	tcase_add_test(tc, test_bdf);
	tcase_add_test(tc, test_bdf_wide_domains);
	tcase_add_test(tc, test_names);
	tcase_add_test(tc, test_json_adders);
	tcase_add_test(tc, test_json_append);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(common_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
