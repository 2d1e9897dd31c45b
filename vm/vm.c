/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The VM model from libvirt domain XML: the guarded libxml2 parse (no
 * network, no DTD, no entities, size and depth limits, errors captured per
 * parse) and the domain-level elements: name, uuid, type, os, cpu and
 * launchSecurity. Devices are read in vm-devices.c, QEMU passthrough in
 * vm-qemu.c. */
#include <errno.h>
#include <libxml/parser.h>
#include <libxml/xmlerror.h>
#include <string.h>
#include <strings.h>

#include "common/fileio.h"
#include "common/macro.h"
#include "vm-internal.h"
#include "vm.h"

/* What one parse learned through the parser's callbacks: the first error
 * (later ones are usually consequences of it) and whether a DTD was seen. */
struct parse_state {
	bool has_error;
	int line, column;
	char message[MT_ERROR_MAX];
	bool saw_doctype;
};

static void parse_state_record(struct parse_state *st, const xmlError *e)
{
	size_t len;

	if (!st || st->has_error || !e || e->level < XML_ERR_ERROR)
		return;
	st->has_error = true;
	st->line = e->line;
	st->column = e->int2;
	snprintf(st->message, sizeof(st->message), "%s", e->message ? e->message : "parse error");
	/* One line: libxml2 ends messages with '\n' and puts some details
	 * ("Bytes: 0xFF ...") on a line of their own. */
	len = strlen(st->message);
	while (len > 0 && (st->message[len - 1] == '\n' || st->message[len - 1] == ' '))
		st->message[--len] = '\0';
	for (char *p = st->message; (p = strchr(p, '\n')); )
		*p = ' ';
}

/* Errors of the parser context: user_data is the context. */
static void parse_state_on_parser_error(void *user_data, xmlErrorPtr e)
{
	xmlParserCtxtPtr ctxt = user_data;

	parse_state_record(ctxt ? ctxt->_private : NULL, e);
}

/* Errors libxml2 raises without a parser context (encoding conversion):
 * they go to the thread's handler, which is ours during a parse. */
static void parse_state_on_thread_error(void *user_data, xmlErrorPtr e)
{
	parse_state_record(user_data, e);
}

static void discard_generic_error(void *ctx _unused_, const char *msg _unused_, ...)
{
}

/* Called for <!DOCTYPE ...> before its internal subset is read: stopping
 * here means no entity is ever declared, so none can be expanded
 * (billion laughs) or fetched (XXE). */
static void parse_state_on_doctype(void *user_data, const xmlChar *name _unused_,
				   const xmlChar *external_id _unused_,
				   const xmlChar *system_id _unused_)
{
	xmlParserCtxtPtr ctxt = user_data;
	struct parse_state *st = ctxt->_private;

	st->saw_doctype = true;
	xmlStopParser(ctxt);
}

static void xml_free_parser_ctxtp(xmlParserCtxtPtr *p)
{
	if (*p)
		xmlFreeParserCtxt(*p);
}

static void xml_free_docp(xmlDocPtr *p)
{
	if (*p)
		xmlFreeDoc(*p);
}

static int parse_error_to_mt(const struct parse_state *st, struct mt_error *err)
{
	if (st->saw_doctype)
		return mt_error_set(err, -EINVAL,
				    "domain XML must not contain a DTD or entity declarations (<!DOCTYPE>)");
	if (st->has_error && st->line > 0)
		return mt_error_set(err, -EINVAL, "domain XML line %d, column %d: %s",
				    st->line, st->column, st->message);
	if (st->has_error)
		return mt_error_set(err, -EINVAL, "domain XML: %s", st->message);
	return mt_error_set(err, -EINVAL, "domain XML could not be parsed");
}

/* Read buf with ctxt while the thread's libxml2 error handlers (thread-local
 * in libxml2) point at st, so that nothing is printed; restore them after. */
static xmlDocPtr xml_read_quietly(xmlParserCtxtPtr ctxt, const char *buf, size_t len,
				  struct parse_state *st)
{
	xmlStructuredErrorFunc saved_structured = xmlStructuredError;
	void *saved_structured_ctx = xmlStructuredErrorContext;
	xmlGenericErrorFunc saved_generic = xmlGenericError;
	void *saved_generic_ctx = xmlGenericErrorContext;
	xmlDocPtr doc;

	xmlSetStructuredErrorFunc(st, parse_state_on_thread_error);
	xmlSetGenericErrorFunc(NULL, discard_generic_error);
	doc = xmlCtxtReadMemory(ctxt, buf, (int)len, "domain.xml", NULL,
				XML_PARSE_NONET | XML_PARSE_NOERROR | XML_PARSE_NOWARNING |
				XML_PARSE_NOCDATA | XML_PARSE_BIG_LINES);
	xmlSetGenericErrorFunc(saved_generic_ctx, saved_generic);
	xmlSetStructuredErrorFunc(saved_structured_ctx, saved_structured);
	return doc;
}

/* Parse buf into a tree with a parser context of our own, so that errors
 * are captured per call (thread-safe, never printed) and a DTD stops the
 * parse. No XML_PARSE_NOENT, DTDLOAD, DTDATTR or HUGE: entities are never
 * substituted, nothing external is loaded. */
static int xml_parse_guarded(const char *buf, size_t len, xmlDocPtr *ret, struct mt_error *err)
{
	_cleanup_(xml_free_parser_ctxtp) xmlParserCtxtPtr ctxt = NULL;
	struct parse_state st = {};
	xmlDocPtr doc;

	ctxt = xmlNewParserCtxt();
	if (!ctxt || !ctxt->sax)
		return mt_error_set(err, -ENOMEM, "out of memory creating an XML parser");
	ctxt->_private = &st;
	ctxt->sax->serror = parse_state_on_parser_error;
	ctxt->sax->internalSubset = parse_state_on_doctype;
	doc = xml_read_quietly(ctxt, buf, len, &st);
	if (!doc || st.saw_doctype || st.has_error || !ctxt->wellFormed) {
		if (doc)
			xmlFreeDoc(doc);
		return parse_error_to_mt(&st, err);
	}
	*ret = doc;
	return 0;
}

/* libxml2 stops at 256 levels; libvirt domains need far fewer, and every
 * later walk may then assume a shallow tree. */
static int check_depth(const xmlNode *n, unsigned depth, struct mt_error *err)
{
	if (depth > VM_XML_MAX_DEPTH)
		return vm_xml_error(err, n, -E2BIG, "elements are nested deeper than %u levels",
				    VM_XML_MAX_DEPTH);
	for (const xmlNode *c = xmlFirstElementChild((xmlNode *)n); c;
	     c = xmlNextElementSibling((xmlNode *)c)) {
		int r = check_depth(c, depth + 1, err);

		if (r < 0)
			return r;
	}
	return 0;
}

static int parse_name(const xmlNode *domain, struct vm *vm, struct mt_error *err)
{
	const xmlNode *n = xml_child(domain, "name");
	_cleanup_free_ char *name = NULL;

	if (!n)
		return vm_xml_error(err, domain, -EINVAL, "<domain> has no <name>");
	name = xml_text(n);
	if (!name)
		return -ENOMEM;
	if (!*name)
		return vm_xml_error(err, n, -EINVAL, "<name> is empty");
	if (strlen(name) >= sizeof(vm->name))
		return vm_xml_error(err, n, -ENAMETOOLONG, "<name> is longer than %zu bytes",
				    sizeof(vm->name) - 1);
	memcpy(vm->name, name, strlen(name) + 1);
	return 0;
}

static int parse_uuid(const xmlNode *domain, struct vm *vm, struct mt_error *err)
{
	const xmlNode *n = xml_child(domain, "uuid");
	_cleanup_free_ char *uuid = NULL;

	if (!n)
		return 0;
	uuid = xml_text(n);
	if (!uuid)
		return -ENOMEM;
	if (uuid_normalize(uuid, vm->uuid) < 0)
		return vm_xml_error(err, n, -EINVAL, "<uuid> '%.64s' is not a valid UUID", uuid);
	return 0;
}

static int parse_type(const xmlNode *domain, struct vm *vm, struct mt_error *err)
{
	int r = xml_attr_copy(domain, "type", vm->domain_type, sizeof(vm->domain_type), err);

	if (r == 0 || (r > 0 && !vm->domain_type[0]))
		return vm_xml_error(err, domain, -EINVAL, "<domain> has no type attribute");
	return r < 0 ? r : 0;
}

static bool loader_path_is_uefi(const char *path)
{
	return strcasestr(path, "ovmf") || strcasestr(path, "edk2") || strcasestr(path, "aavmf");
}

/* <os firmware='efi|bios'>, else the <loader>, else libvirt's default:
 * SeaBIOS on x86 (other architectures have no BIOS default). */
static int parse_firmware(const xmlNode *domain, struct vm *vm, struct mt_error *err)
{
	const xmlNode *os = xml_child(domain, "os"), *loader, *type;
	_cleanup_xml_free_ char *firmware = NULL, *loader_type = NULL, *arch = NULL;
	_cleanup_free_ char *path = NULL;

	if (!os)
		return 0;
	firmware = xml_attr(os, "firmware");
	if (firmware) {
		if (streq(firmware, "efi"))
			vm->firmware = VM_FIRMWARE_EFI;
		else if (streq(firmware, "bios"))
			vm->firmware = VM_FIRMWARE_BIOS;
		else
			return vm_xml_error(err, os, -EINVAL,
					    "<os firmware='%.32s'>: expected 'efi' or 'bios'", firmware);
		return 0;
	}
	loader = xml_child(os, "loader");
	if (loader) {
		loader_type = xml_attr(loader, "type");
		path = xml_text(loader);
		if (!path)
			return -ENOMEM;
		if ((loader_type && streq(loader_type, "pflash")) || loader_path_is_uefi(path))
			vm->firmware = VM_FIRMWARE_EFI;
		else if (strcasestr(path, "seabios") || strcasestr(path, "bios.bin"))
			vm->firmware = VM_FIRMWARE_BIOS;
		return 0;
	}
	type = xml_child(os, "type");
	arch = type ? xml_attr(type, "arch") : NULL;
	if (!arch || streq(arch, "x86_64") || streq(arch, "i686"))
		vm->firmware = VM_FIRMWARE_BIOS;
	return 0;
}

static int parse_cpu_mode(const xmlNode *domain, struct vm *vm, struct mt_error *err)
{
	const xmlNode *cpu = xml_child(domain, "cpu");
	int r;

	if (!cpu)
		return 0;
	r = xml_attr_copy(cpu, "mode", vm->cpu_mode, sizeof(vm->cpu_mode), err);
	if (r == 0)
		snprintf(vm->cpu_mode, sizeof(vm->cpu_mode), "custom");  /* libvirt's default */
	return r < 0 ? r : 0;
}

static int parse_launch_security(const xmlNode *domain, struct vm *vm, struct mt_error *err)
{
	const xmlNode *ls = xml_child(domain, "launchSecurity");
	_cleanup_xml_free_ char *type = NULL;

	if (!ls)
		return 0;
	type = xml_attr(ls, "type");
	if (!type)
		return vm_xml_error(err, ls, -EINVAL, "<launchSecurity> has no type attribute");
	if (streq(type, "sev"))
		vm->launch_security = LAUNCH_SECURITY_SEV;
	else if (streq(type, "sev-snp"))
		vm->launch_security = LAUNCH_SECURITY_SEV_SNP;
	else if (streq(type, "tdx"))
		vm->launch_security = LAUNCH_SECURITY_TDX;
	else
		vm->launch_security = LAUNCH_SECURITY_OTHER;  /* s390-pv, future types */
	return 0;
}

static int vm_from_domain(const xmlNode *domain, struct vm *vm, struct mt_error *err)
{
	static int (*const parsers[])(const xmlNode *, struct vm *, struct mt_error *) = {
		parse_name,
		parse_uuid,
		parse_type,
		parse_firmware,
		parse_cpu_mode,
		parse_launch_security,
		vm_parse_devices,
		vm_parse_qemu_extensions,  /* refers to the devices read before */
	};

	for (size_t i = 0; i < ELEMENTSOF(parsers); i++) {
		int r = parsers[i](domain, vm, err);

		if (r < 0)
			return r == -ENOMEM ? mt_error_set(err, r, "out of memory reading domain XML") : r;
	}
	return 0;
}

DEFINE_TRIVIAL_CLEANUP_FUNC(struct vm *, vm_free);

int vm_parse_xml(const char *buf, size_t len, struct vm **ret, struct mt_error *err)
{
	_cleanup_(xml_free_docp) xmlDocPtr doc = NULL;
	_cleanup_(vm_freep) struct vm *vm = NULL;
	const xmlNode *root;
	int r;

	if (!buf || !ret)
		return mt_error_set(err, -EINVAL, "no domain XML given");
	if (len > VM_XML_MAX_BYTES)
		return mt_error_set(err, -EFBIG, "domain XML is %zu bytes, more than the limit of %u",
				    len, VM_XML_MAX_BYTES);
	if (len == 0)
		return mt_error_set(err, -EINVAL, "domain XML is empty");
	r = xml_parse_guarded(buf, len, &doc, err);
	if (r < 0)
		return r;
	root = xmlDocGetRootElement(doc);
	if (!root)
		return mt_error_set(err, -EINVAL, "domain XML has no root element");
	if (!xml_is(root, "domain"))
		return vm_xml_error(err, root, -EINVAL, "not a libvirt domain: root element is <%s%s%s>",
				    root->ns && root->ns->prefix ? (const char *)root->ns->prefix : "",
				    root->ns && root->ns->prefix ? ":" : "", (const char *)root->name);
	r = check_depth(root, 1, err);
	if (r < 0)
		return r;
	vm = calloc(1, sizeof(*vm));
	if (!vm)
		return mt_error_set(err, -ENOMEM, "out of memory reading domain XML");
	r = vm_from_domain(root, vm, err);
	if (r < 0)
		return r;
	*ret = TAKE_PTR(vm);
	return 0;
}

int vm_parse_xml_file(const char *path, struct vm **ret, struct mt_error *err)
{
	_cleanup_free_ char *buf = NULL;
	struct mt_error parse_err = {};
	size_t len = 0;
	int r;

	if (!path || !ret)
		return mt_error_set(err, -EINVAL, "no domain XML file given");
	r = read_file_bounded(path, VM_XML_MAX_BYTES, &buf, &len);
	if (r == -EFBIG)
		return mt_error_set(err, r, "%s: domain XML is larger than the limit of %u bytes",
				    path, VM_XML_MAX_BYTES);
	if (r < 0)
		return mt_error_set(err, r, "%s: %s", path, strerror(-r));
	/* Name the file in front of the parser's message. */
	r = vm_parse_xml(buf, len, ret, &parse_err);
	if (r < 0)
		return mt_error_set(err, r, "%s: %s", path, mt_error_message(&parse_err, r));
	return 0;
}

void vm_free(struct vm *vm)
{
	if (!vm)
		return;
	free(vm->hostdevs);
	free(vm->videos);
	free(vm->shmems);
	free(vm);
}
