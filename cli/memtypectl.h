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
	OPT_PID = 1u << 5,
};

struct cli_args {
	enum json_mode json;
	unsigned given;                /* enum cli_option bits seen */
	const char *root;              /* NULL: the live host */
	const char *lspci_dump;
	const char *capture;
	const char *xml;
	const char *policy;
	const char *socket;            /* --socket; NULL: $MEMTYPE_SOCKET or the default */
	const char *pid;               /* --pid, as given (checked by the verb) */
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
struct json_object;
/* Print a memtype.plan/1 document as the plan table. */
int plan_print_table(struct json_object *plan);
/* In mode JSON_OFF the explanation if given, else the table; otherwise the
 * document, with the explanation added to it as "explanation". */
int plan_print(struct json_object *plan, const char *explanation, enum json_mode mode);
bool plan_json_has_errors(struct json_object *plan);
struct plan;
/* The plan of --xml with --root/--policy (default: this host and the
 * system policy). Returns 0 or an exit code after printing why. */
int cli_make_plan(const struct cli_args *args, struct plan **ret);

/* verb-online.c: verbs answered by memtyped over varlink */
int verb_status(int argc, char **argv, const struct cli_args *args);
int verb_vms(int argc, char **argv, const struct cli_args *args);
int verb_plan_online(int argc, char **argv, const struct cli_args *args);
int verb_explain_online(int argc, char **argv, const struct cli_args *args);
int verb_apply(int argc, char **argv, const struct cli_args *args);
int verb_verify(int argc, char **argv, const struct cli_args *args);
int verb_monitor(int argc, char **argv, const struct cli_args *args);
int verb_register(int argc, char **argv, const struct cli_args *args);
int verb_unregister(int argc, char **argv, const struct cli_args *args);
int verb_reload(int argc, char **argv, const struct cli_args *args);

/* verb-online.c: the libvirt hook entry */
int verb_libvirt_hook(int argc, char **argv, const struct cli_args *args);
/* verb-hook-offline.c: the hook's fallback when memtyped is down */
int verb_hook_offline(int argc, char **argv, const struct cli_args *args);

/* verb-policy.c */
int verb_policy(int argc, char **argv, const struct cli_args *args);
