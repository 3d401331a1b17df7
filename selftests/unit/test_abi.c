// SPDX-License-Identifier: GPL-2.0-only
/*
 * ABI layout check: every struct, enum and constant of the three boundary
 * headers (kmod/kmesh_kfunc.h, kmod/kmesh_dev.h, bpf/include/kmesh_maps.h)
 * against selftests/unit/abi_layout.txt, which records them under each
 * boundary's version. Changing a layout without bumping the version fails
 * here, in make check, instead of in a kernel reading the wrong offsets.
 *
 *	test_abi			check (make unit)
 *	test_abi --record FILE		append what FILE lacks (make abi-layout);
 *					refuses when a recorded fact changed
 *
 * Facts, one a line: "BOUNDARY VERSION KIND NAME VALUE":
 *	struct NAME size S align A	host sizeof/_Alignof
 *	member STRUCT.FIELD off O size S	from the BTF of abi_types.c as
 *					clang -target bpf lays it out
 *	enum ENUM.ENUMERATOR V		from the same BTF (not the counts,
 *					KMESH_..._MAX, which additions move)
 *	const NAME V			object-like #defines, host value
 * A recorded fact that changed or went away is incompatible: bump the
 * version, then record the new one. A fact that is only new (a struct for
 * a new map, a new reason code) is an addition: record it, same version.
 *
 * With ABI_BTF_OBJS (built BPF objects, the module; ABI_BTF_BASE: the
 * vmlinux the module was built against) the BTF of what was really built
 * is compared too: every ABI struct it holds must match.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <bpf/btf.h>
#include <bpf/libbpf.h>

#include "kmesh_dev.h"
#include "kmesh_kfunc.h"
#include "kmesh_maps.h"
#include "tap.h"

static const struct boundary {
	const char *name;
	unsigned int version;
	const char *macro;	/* where to bump it */
	const char *header;
} boundaries[] = {
	{ "kfunc", KMESH_KFUNC_ABI_VERSION, "KMESH_KFUNC_ABI_VERSION", "kmod/kmesh_kfunc.h" },
	{ "dev", KMESH_DEV_ABI_VERSION, "KMESH_DEV_ABI_VERSION", "kmod/kmesh_dev.h" },
	{ "maps", KMESH_MAPS_ABI_VERSION, "KMESH_MAPS_ABI_VERSION", "bpf/include/kmesh_maps.h" },
};
#define NR_BOUNDARIES	(sizeof(boundaries) / sizeof(boundaries[0]))

struct fact {
	char key[192];		/* "BOUNDARY VERSION KIND NAME" */
	char val[48];
	unsigned int boundary;	/* index into boundaries[] */
};

struct facts {
	struct fact *v;
	size_t n, cap;
};

static struct fact *fact_add(struct facts *f, unsigned int b, const char *kind,
			     const char *name, const char *fmt, ...)
	__attribute__((format(printf, 5, 6)));

static struct fact *fact_add(struct facts *f, unsigned int b, const char *kind,
			     const char *name, const char *fmt, ...)
{
	struct fact *x;
	va_list ap;

	if (f->n == f->cap) {
		f->cap = f->cap ? f->cap * 2 : 256;
		f->v = realloc(f->v, f->cap * sizeof(*f->v));
		if (!f->v) {
			perror("test_abi");
			exit(2);
		}
	}
	x = &f->v[f->n++];
	x->boundary = b;
	snprintf(x->key, sizeof(x->key), "%s %u %s %s", boundaries[b].name,
		 boundaries[b].version, kind, name);
	va_start(ap, fmt);
	vsnprintf(x->val, sizeof(x->val), fmt, ap);
	va_end(ap);
	return x;
}

static const struct fact *fact_find(const struct facts *f, const char *key)
{
	size_t i;

	for (i = 0; i < f->n; i++)
		if (!strcmp(f->v[i].key, key))
			return &f->v[i];
	return NULL;
}

static unsigned int boundary_index(const char *name)
{
	unsigned int i;

	for (i = 0; i < NR_BOUNDARIES; i++)
		if (!strcmp(boundaries[i].name, name))
			return i;
	return NR_BOUNDARIES;
}

/* ---- what the headers say now ---- */

static const struct btf_type *btf_named(const struct btf *btf, const char *name,
					__u32 kind)
{
	__s32 id = btf__find_by_name_kind(btf, name, kind);

	return id > 0 ? btf__type_by_id(btf, id) : NULL;
}

/* Members of @t as facts; 0, or -1 when the BTF cannot size one. */
static int member_facts(struct facts *f, unsigned int b, const struct btf *btf,
			const char *sname, const struct btf_type *t)
{
	const struct btf_member *m = btf_members(t);
	char name[128];
	int i;

	for (i = 0; i < btf_vlen(t); i++, m++) {
		__s64 size = btf__resolve_size(btf, m->type);

		if (size < 0)
			return -1;
		snprintf(name, sizeof(name), "%s.%s", sname,
			 btf__name_by_offset(btf, m->name_off));
		fact_add(f, b, "member", name, "off %u size %lld",
			 btf_member_bit_offset(t, i) / 8, (long long)size);
	}
	return 0;
}

static int enum_facts(struct facts *f, unsigned int b, const struct btf *btf,
		      const char *ename, const struct btf_type *t)
{
	const struct btf_enum *e = btf_enum(t);
	char name[128];
	int i;

	for (i = 0; i < btf_vlen(t); i++, e++) {
		const char *en = btf__name_by_offset(btf, e->name_off);
		size_t len = strlen(en);

		/* A count (KMESH_HTTP_STATUS_MAX), not a value: it moves with
		 * every code added, and an addition keeps the version. */
		if (len > 4 && !strcmp(en + len - 4, "_MAX"))
			continue;
		snprintf(name, sizeof(name), "%s.%s", ename, en);
		fact_add(f, b, "enum", name, "%d", e->val);
	}
	return 0;
}

/* Sizes the host and the BPF compiler disagree on. */
static unsigned int host_bpf_mismatch;

static void struct_fact(struct facts *f, unsigned int b, const struct btf *btf,
			const char *name, size_t size, size_t align)
{
	const struct btf_type *t = btf_named(btf, name, BTF_KIND_STRUCT);

	fact_add(f, b, "struct", name, "size %zu align %zu", size, align);
	if (!t || member_facts(f, b, btf, name, t)) {
		tap_diag("struct %s: not in the BTF of abi_types.c", name);
		host_bpf_mismatch++;
	} else if (t->size != size) {
		tap_diag("struct %s: %zu bytes on the host, %u for BPF", name,
			 size, t->size);
		host_bpf_mismatch++;
	}
}

static void enum_fact(struct facts *f, unsigned int b, const struct btf *btf,
		      const char *name)
{
	const struct btf_type *t = btf_named(btf, name, BTF_KIND_ENUM);

	if (!t) {
		tap_diag("enum %s: not in the BTF of abi_types.c", name);
		host_bpf_mismatch++;
		return;
	}
	enum_facts(f, b, btf, name, t);
}

/* Indexes into boundaries[], for the boundary names abi_list.h uses. */
enum { boundaries_kfunc, boundaries_dev, boundaries_maps };
#define BIDX(boundary)	((unsigned int)boundaries_##boundary)

static void compute(struct facts *f, const struct btf *btf)
{
#define ABI_STRUCT(boundary, name)					\
	struct_fact(f, BIDX(boundary), btf, #name, sizeof(struct name),	\
		    _Alignof(struct name));
#define ABI_ENUM(boundary, name)	enum_fact(f, BIDX(boundary), btf, #name);
#define ABI_CONST(boundary, name)					\
	fact_add(f, BIDX(boundary), "const", #name, "%lld", (long long)(name));
#include "abi_list.h"
#undef ABI_STRUCT
#undef ABI_ENUM
#undef ABI_CONST
}

/* ---- what was recorded ---- */

static int load_recorded(const char *path, struct facts *f)
{
	char line[256], bname[16], kind[16], name[128];
	unsigned int version, b;
	int off, lineno = 0;
	FILE *in = fopen(path, "r");

	if (!in)
		return -errno;
	while (fgets(line, sizeof(line), in)) {
		lineno++;
		line[strcspn(line, "\n")] = '\0';
		if (!line[0] || line[0] == '#')
			continue;
		if (sscanf(line, "%15s %u %15s %127s %n", bname, &version, kind,
			   name, &off) != 4 ||
		    (b = boundary_index(bname)) == NR_BOUNDARIES) {
			fprintf(stderr, "%s:%d: not \"BOUNDARY VERSION KIND NAME VALUE\": %s\n",
				path, lineno, line);
			fclose(in);
			return -EINVAL;
		}
		/* recorded under its own version, not the current one */
		if (f->n == f->cap) {
			f->cap = f->cap ? f->cap * 2 : 256;
			f->v = realloc(f->v, f->cap * sizeof(*f->v));
			if (!f->v)
				exit(2);
		}
		snprintf(f->v[f->n].key, sizeof(f->v[f->n].key), "%s %u %s %s",
			 bname, version, kind, name);
		snprintf(f->v[f->n].val, sizeof(f->v[f->n].val), "%s", line + off);
		f->v[f->n].boundary = b;
		f->n++;
	}
	fclose(in);
	return 0;
}

/* ---- the comparison ---- */

struct verdict {
	unsigned int recorded;	/* facts recorded for the current version */
	unsigned int changed;	/* recorded, now different or gone */
	unsigned int added;	/* new, not recorded */
};

static bool quiet;

static void say(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void say(const char *fmt, ...)
{
	char buf[512];
	va_list ap;

	if (quiet)
		return;
	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	tap_diag("%s", buf);
}

static struct verdict compare(unsigned int b, const struct facts *now,
			      const struct facts *rec)
{
	struct verdict v = {};
	char prefix[32];
	size_t i;

	snprintf(prefix, sizeof(prefix), "%s %u ", boundaries[b].name,
		 boundaries[b].version);
	for (i = 0; i < rec->n; i++) {
		const struct fact *r = &rec->v[i], *c;

		if (strncmp(r->key, prefix, strlen(prefix)))
			continue;
		v.recorded++;
		c = fact_find(now, r->key);
		if (!c) {
			v.changed++;
			say("gone: %s (recorded %s)", r->key, r->val);
		} else if (strcmp(c->val, r->val)) {
			v.changed++;
			say("changed: %s: now %s, recorded %s", r->key, c->val,
			    r->val);
		}
	}
	for (i = 0; i < now->n; i++) {
		if (now->v[i].boundary != b || fact_find(rec, now->v[i].key))
			continue;
		v.added++;
		if (v.recorded)
			say("new: %s %s", now->v[i].key, now->v[i].val);
	}
	return v;
}

static void check_boundary(unsigned int b, const struct facts *now,
			   const struct facts *rec)
{
	const struct boundary *bd = &boundaries[b];
	struct verdict v;

	tap_begin("abi: %s interface version %u (%s) is laid out as recorded",
		  bd->name, bd->version, bd->header);
	v = compare(b, now, rec);
	if (!EXPECT(v.recorded > 0)) {
		tap_diag("no layout recorded for %s ABI %u: run make abi-layout to record it",
			 bd->name, bd->version);
	} else {
		if (!EXPECT_EQ(v.changed, 0))
			tap_diag("a layout changed without a version bump: bump %s in %s, then run make abi-layout",
				 bd->macro, bd->header);
		if (!EXPECT_EQ(v.added, 0))
			tap_diag("additions keep the version: run make abi-layout to record them");
	}
	tap_end();
}

/* The check must notice what it is for: a moved member, a renumbered code. */
static void check_fails_on_change(const struct facts *now)
{
	struct facts mutated = {};
	struct verdict v;
	size_t i;
	bool member = false, enumerator = false;

	tap_begin("abi: the check reports a moved member and a renumbered enumerator as changes");
	mutated.v = malloc(now->n * sizeof(*now->v));
	if (!EXPECT(mutated.v))
		goto out;
	memcpy(mutated.v, now->v, now->n * sizeof(*now->v));
	mutated.n = mutated.cap = now->n;
	for (i = 0; i < mutated.n; i++) {
		struct fact *x = &mutated.v[i];

		if (!member && strstr(x->key, "kfunc ") == x->key &&
		    strstr(x->key, " member kmesh_route_query.verdict")) {
			snprintf(x->val, sizeof(x->val), "off 8 size 36");
			member = true;
		}
		if (!enumerator && strstr(x->key, " enum kmesh_http_status.KMESH_HTTP_E_NUL")) {
			snprintf(x->val, sizeof(x->val), "99");
			enumerator = true;
		}
	}
	EXPECT(member && enumerator);
	quiet = true;
	v = compare(boundary_index("kfunc"), now, &mutated);
	quiet = false;
	EXPECT_EQ(v.changed, 2);
	EXPECT_EQ(v.added, 0);
	free(mutated.v);
out:
	tap_end();
}

/* ---- the BTF of what was built ---- */

static void check_built(const char *path, struct btf *base, const struct facts *now)
{
	struct btf *btf;
	unsigned int structs = 0, wrong = 0;
	size_t i;

	tap_begin("abi: the BTF of %s lays out every ABI struct it holds as recorded",
		  path);
	btf = base ? btf__parse_split(path, base) : btf__parse(path, NULL);
	if (!btf && base) {
		/* kbuild without a vmlinux writes none (docs/install.md) */
		tap_skip("%s: no module BTF (%s)", path, strerror(errno));
		goto out;
	}
	if (!EXPECT(btf)) {
		tap_diag("%s: no BTF (%s)", path, strerror(errno));
		goto out;
	}
	for (i = 0; i < now->n; i++) {
		const char *key = now->v[i].key, *name;
		const struct btf_type *t;
		struct facts mine = {};
		char sname[128];
		size_t j;

		if (!strstr(key, " struct "))
			continue;
		name = strstr(key, " struct ") + strlen(" struct ");
		t = btf_named(btf, name, BTF_KIND_STRUCT);
		if (!t)
			continue;
		structs++;
		snprintf(sname, sizeof(sname), "%s", name);
		if (member_facts(&mine, now->v[i].boundary, btf, sname, t)) {
			wrong++;
			tap_diag("%s: struct %s: a member of unknown size", path, sname);
		}
		for (j = 0; j < mine.n; j++) {
			const struct fact *c = fact_find(now, mine.v[j].key);

			if (!c || strcmp(c->val, mine.v[j].val)) {
				wrong++;
				tap_diag("%s: %s: %s there, %s in the headers", path,
					 mine.v[j].key, mine.v[j].val,
					 c ? c->val : "absent");
			}
		}
		free(mine.v);
	}
	EXPECT_EQ(wrong, 0);
	EXPECT(structs > 0);
	tap_diag("%s: %u ABI structs compared", path, structs);
	btf__free(btf);
out:
	tap_end();
}

static void check_built_objects(const struct facts *now)
{
	const char *objs = getenv("ABI_BTF_OBJS");
	const char *base_path = getenv("ABI_BTF_BASE");
	struct btf *base = NULL;
	char *list, *tok, *save = NULL;

	if (!objs || !objs[0]) {
		tap_begin("abi: the BTF of the built BPF objects and module");
		tap_skip("ABI_BTF_OBJS not set (make unit sets it once make all has built them)");
		tap_end();
		return;
	}
	list = strdup(objs);
	for (tok = strtok_r(list, " \t\n", &save); tok;
	     tok = strtok_r(NULL, " \t\n", &save)) {
		size_t len = strlen(tok);
		bool module = len > 3 && !strcmp(tok + len - 3, ".ko");

		if (module && !base && base_path && base_path[0])
			base = btf__parse(base_path, NULL);
		if (module && !base) {
			tap_begin("abi: the BTF of %s lays out every ABI struct it holds as recorded",
				  tok);
			tap_skip("no vmlinux BTF to read module BTF against (ABI_BTF_BASE)");
			tap_end();
			continue;
		}
		check_built(tok, module ? base : NULL, now);
	}
	btf__free(base);
	free(list);
}

/* ---- recording ---- */

static int record(const char *path, const struct facts *now, const struct facts *rec)
{
	unsigned int b, refused = 0, appended = 0;
	FILE *out;
	size_t i;

	for (b = 0; b < NR_BOUNDARIES; b++) {
		struct verdict v = compare(b, now, rec);

		if (v.changed) {
			fprintf(stderr, "%s ABI %u is recorded with another layout: bump %s in %s, then run this again\n",
				boundaries[b].name, boundaries[b].version,
				boundaries[b].macro, boundaries[b].header);
			refused++;
		}
	}
	if (refused)
		return 1;
	out = fopen(path, "a");
	if (!out) {
		perror(path);
		return 1;
	}
	for (b = 0; b < NR_BOUNDARIES; b++) {
		bool header = false;

		for (i = 0; i < now->n; i++) {
			if (now->v[i].boundary != b || fact_find(rec, now->v[i].key))
				continue;
			if (!header)
				fprintf(out, "# %s ABI %u (%s)\n", boundaries[b].name,
					boundaries[b].version, boundaries[b].header);
			header = true;
			fprintf(out, "%s %s\n", now->v[i].key, now->v[i].val);
			appended++;
		}
	}
	fclose(out);
	printf("%s: %u facts recorded\n", path, appended);
	return 0;
}

int main(int argc, char **argv)
{
	struct facts now = {}, rec = {};
	const char *layout = ABI_LAYOUT_FILE;
	struct btf *btf;
	unsigned int b;
	int err;

	btf = btf__parse(ABI_TYPES_OBJ, NULL);
	if (!btf) {
		fprintf(stderr, "test_abi: %s: %s\n", ABI_TYPES_OBJ, strerror(errno));
		return 2;
	}
	if (argc == 3 && !strcmp(argv[1], "--record"))
		layout = argv[2];
	else if (argc != 1) {
		fprintf(stderr, "usage: test_abi [--record LAYOUT_FILE]\n");
		return 2;
	}
	err = load_recorded(layout, &rec);
	if (err && !(err == -ENOENT && argc == 3)) {
		fprintf(stderr, "test_abi: %s: %s\n", layout, strerror(-err));
		return 2;
	}
	if (argc == 3) {
		quiet = true;
		compute(&now, btf);
		quiet = false;
		err = record(layout, &now, &rec);
		btf__free(btf);
		free(now.v);
		free(rec.v);
		return err;
	}

	tap_header();
	tap_begin("abi: the BPF compiler lays out every ABI struct as the host does");
	compute(&now, btf);
	EXPECT_EQ(host_bpf_mismatch, 0);
	tap_diag("%zu facts over %zu boundaries", now.n, NR_BOUNDARIES);
	tap_end();
	for (b = 0; b < NR_BOUNDARIES; b++)
		check_boundary(b, &now, &rec);
	check_fails_on_change(&now);
	check_built_objects(&now);
	btf__free(btf);
	free(now.v);
	free(rec.v);
	return tap_finish();
}
