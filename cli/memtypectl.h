/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* What memtypectl's verbs share: the parsed command line and the verb
 * functions of each verb family (verb-*.c). A verb returns an exit code
 * (enum mt_exit) and has printed its own error message. */
#pragma once

#include "output.h"

struct host;

/* Options that only some verbs accept; the verbs table says which. */
enum cli_option {
	OPT_ROOT = 1u << 0,
	OPT_LSPCI_DUMP = 1u << 1,
	OPT_CAPTURE = 1u << 2,
	OPT_XML = 1u << 3,
	OPT_POLICY = 1u << 4,
};

struct cli_args {
	enum json_mode json;
	unsigned given;                /* enum cli_option bits seen */
	const char *root;              /* NULL: the live host */
	const char *lspci_dump;
	const char *capture;
	const char *xml;
	const char *policy;
};

/* verb-inventory.c */
int verb_inventory(int argc, char **argv, const struct cli_args *args);
int verb_devices(int argc, char **argv, const struct cli_args *args);
int verb_iommu(int argc, char **argv, const struct cli_args *args);
/* Read the host named by --root/--lspci-dump (default: the live host).
 * Returns 0 or an exit code after printing why. */
int cli_read_host(const struct cli_args *args, struct host **ret);

/* verb-plan.c */
int verb_plan(int argc, char **argv, const struct cli_args *args);
int verb_explain(int argc, char **argv, const struct cli_args *args);

/* verb-policy.c */
int verb_policy(int argc, char **argv, const struct cli_args *args);
