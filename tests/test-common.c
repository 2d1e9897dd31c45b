/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Unit tests of common/ and the small helpers of the model. */
#include <check.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/error.h"
#include "common/fileio.h"
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
	tcase_add_test(tc, test_names);
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
