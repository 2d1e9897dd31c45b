/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* libFuzzer harness for policy_parse_text(), the parser of operator policy
 * files (memtype.json(5)). Not built by default; from the top of the tree:
 *
 *   clang -g -O1 -fsanitize=fuzzer,address,undefined -include BUILD/config.h -I. \
 *         $(pkg-config --cflags json-c) tests/fuzz/fuzz-policy.c \
 *         config/json-positions.c config/policy-parse.c config/policy-json.c \
 *         policy/model.c policy/quirks.c common/error.c \
 *         $(pkg-config --libs json-c) -o fuzz-policy
 *   ./fuzz-policy -max_total_time=60 -max_len=4096 CORPUS tests/policy tests/policy/bad
 *
 * Every input must either merge into the policy or fail with a message that
 * names the file, and a failure must leave the policy exactly as it was. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "config/config.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void policy_clear(struct operator_policy *p)
{
	for (size_t i = 0; i < p->n_sources; i++)
		free(p->sources[i]);
	free(p->sources);
	free(p->vm_rules);
	free(p->device_rules);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct operator_policy pol, before;
	struct mt_error err = { 0 };
	struct json_object *j = NULL;
	int r;

	operator_policy_init(&pol);
	/* Parse twice, so that the second merge runs on a policy with rules. */
	for (int round = 0; round < 2; round++) {
		before = pol;
		memset(&err, 0, sizeof(err));
		r = policy_parse_text((const char *)data, size, "fuzz.json", &pol, &err);
		if (r < 0) {
			if (err.code != r || strncmp(err.message, "fuzz.json:", 10) != 0)
				abort();
			if (memcmp(&pol, &before, sizeof(pol)) != 0)
				abort();
			break;
		}
	}
	if (operator_policy_to_json(&pol, &j) == 0)
		json_object_put(j);
	policy_clear(&pol);
	return 0;
}
