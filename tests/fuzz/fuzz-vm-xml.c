/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* libFuzzer harness for vm_parse_xml(): any byte string must give either a
 * VM model (which must then convert to JSON) or an error with a message,
 * never a crash, a leak or output on stderr. Not built by default.
 *
 * Build and run from a configured build directory (for config.h):
 *
 *   clang -g -O1 -fsanitize=fuzzer,address,undefined \
 *     -include config.h -I$SRC $(pkg-config --cflags libxml-2.0 json-c) \
 *     $SRC/tests/fuzz/fuzz-vm-xml.c \
 *     $SRC/vm/{vm,vm-devices,vm-qemu,vm-json,vm-util,qemu-opts}.c $SRC/policy/model.c \
 *     $SRC/common/error.c $SRC/common/fileio.c \
 *     $(pkg-config --libs libxml-2.0 json-c) -o fuzz-vm-xml
 *   mkdir -p corpus && cp $SRC/tests/xml/{,bad/}*.xml corpus/
 *   ./fuzz-vm-xml -dict=$SRC/tests/fuzz/fuzz-vm-xml.dict -max_total_time=60 \
 *     -max_len=16384 corpus
 *
 * where SRC is the source tree. */
#include <json-c/json.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include "vm/vm.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct mt_error err = {};
	struct json_object *json = NULL;
	struct vm *vm = NULL;
	int r;

	r = vm_parse_xml((const char *)data, size, &vm, &err);
	if (r < 0) {
		/* Every failure must say what was wrong. */
		if (vm || err.code != r || !err.message[0])
			abort();
		return 0;
	}
	if (!vm || !vm->name[0] || vm_to_json(vm, &json) < 0)
		abort();
	json_object_put(json);
	vm_free(vm);
	return 0;
}
