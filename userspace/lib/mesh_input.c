// SPDX-License-Identifier: GPL-2.0-only
/*
 * Inputs of apply/validate: every document of every file is read and
 * sorted into "kmesh's own mesh file" or "a resource"; see mesh_input.h.
 */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <yaml.h>

#include "istio.h"
#include "mesh_input.h"


static int line_of(const yaml_node_t *n)
{
	return (int)n->start_mark.line + 1;
}

static bool is_empty_doc(const yaml_node_t *root)
{
	/* "---" followed by nothing or comments: an empty plain scalar */
	return !root || (root->type == YAML_SCALAR_NODE &&
			 root->data.scalar.style == YAML_PLAIN_SCALAR_STYLE &&
			 (!root->data.scalar.length ||
			  !strcmp((const char *)root->data.scalar.value, "~") ||
			  !strcmp((const char *)root->data.scalar.value, "null")));
}

static yaml_node_t *map_get(yaml_document_t *doc, yaml_node_t *map,
			    const char *key)
{
	yaml_node_pair_t *pair;

	if (map->type != YAML_MAPPING_NODE)
		return NULL;
	for (pair = map->data.mapping.pairs.start;
	     pair < map->data.mapping.pairs.top; pair++) {
		yaml_node_t *k = yaml_document_get_node(doc, pair->key);

		if (k && k->type == YAML_SCALAR_NODE &&
		    !strcmp((const char *)k->data.scalar.value, key))
			return yaml_document_get_node(doc, pair->value);
	}
	return NULL;
}

static int add_resource(struct mesh_docs *in, const char *file,
			yaml_document_t *doc, yaml_node_t *root)
{
	struct istio_resource *nres;

	nres = realloc(in->res, (in->nr_res + 1) * sizeof(*in->res));
	if (!nres) {
		snprintf(in->err, in->err_size, "%s: out of memory", file);
		return -1;
	}
	in->res = nres;
	in->res[in->nr_res++] = (struct istio_resource){ file, doc, root };
	return 0;
}

/* A document that is a resource, a List of them, or kmesh's own file. */
static int sort_doc(struct mesh_docs *in, const char *file, yaml_document_t *doc,
		    int docno)
{
	yaml_node_t *root = yaml_document_get_root_node(doc);
	yaml_node_t *kind, *items;
	yaml_node_item_t *it;

	if (root->type != YAML_MAPPING_NODE) {
		snprintf(in->err, in->err_size,
			 "%s:%d: document %d: expected a mapping (kmesh's mesh file, or a resource with apiVersion: and kind:)",
			 file, line_of(root), docno);
		return -1;
	}
	kind = map_get(doc, root, "kind");
	if (!kind && !map_get(doc, root, "apiVersion")) {
		if (in->own) {
			snprintf(in->err, in->err_size,
				 "%s:%d: document %d: a second kmesh mesh document (the first is %s:%d): the mesh file is one document; merge them into one",
				 file, line_of(root), docno, in->own_file,
				 in->own_line);
			return -1;
		}
		in->own = doc;
		in->own_file = file;
		in->own_line = line_of(root);
		return 0;
	}
	if (kind && kind->type == YAML_SCALAR_NODE &&
	    !strcmp((const char *)kind->data.scalar.value, "List")) {
		/* kubectl get -o yaml of several objects */
		items = map_get(doc, root, "items");
		if (!items || items->type != YAML_SEQUENCE_NODE) {
			snprintf(in->err, in->err_size,
				 "%s:%d: document %d: List: items: expected a list of resources",
				 file, line_of(root), docno);
			return -1;
		}
		for (it = items->data.sequence.items.start;
		     it < items->data.sequence.items.top; it++)
			if (add_resource(in, file, doc,
					 yaml_document_get_node(doc, *it)))
				return -1;
		return 0;
	}
	return add_resource(in, file, doc, root);
}

static int read_stream(struct mesh_docs *in, const char *file, const char *text,
		       size_t len)
{
	yaml_parser_t parser;
	yaml_document_t *doc, **ndocs;
	int docno, rc = -1;

	if (!yaml_parser_initialize(&parser)) {
		snprintf(in->err, in->err_size, "%s: out of memory", file);
		return -1;
	}
	yaml_parser_set_input_string(&parser, (const unsigned char *)text, len);
	for (docno = 1;; docno++) {
		doc = calloc(1, sizeof(*doc));
		ndocs = realloc(in->docs, (in->nr_docs + 1) * sizeof(*in->docs));
		if (!doc || !ndocs) {
			free(doc);
			snprintf(in->err, in->err_size, "%s: out of memory", file);
			goto out;
		}
		in->docs = ndocs;
		if (!yaml_parser_load(&parser, doc)) {
			free(doc);
			snprintf(in->err, in->err_size,
				 "%s:%d: document %d: YAML syntax error: %s%s%s",
				 file, (int)parser.problem_mark.line + 1, docno,
				 parser.problem ? parser.problem : "?",
				 parser.context ? " " : "",
				 parser.context ? parser.context : "");
			goto out;
		}
		if (!yaml_document_get_root_node(doc)) {	/* the end */
			yaml_document_delete(doc);
			free(doc);
			break;
		}
		in->docs[in->nr_docs++] = doc;
		if (is_empty_doc(yaml_document_get_root_node(doc)))
			continue;
		if (sort_doc(in, file, doc, docno))
			goto out;
	}
	rc = 0;
out:
	yaml_parser_delete(&parser);
	return rc;
}

static const char *keep_name(struct mesh_docs *in, const char *name)
{
	char **nfiles = realloc(in->files, (in->nr_files + 1) * sizeof(*in->files));

	if (!nfiles)
		return NULL;
	in->files = nfiles;
	in->files[in->nr_files] = strdup(name);
	return in->files[in->nr_files] ? in->files[in->nr_files++] : NULL;
}

static int read_fd_file(struct mesh_docs *in, const char *name, FILE *f)
{
	size_t len = 0, cap = 0, n;
	char *buf = NULL, *nbuf;
	const char *kept;
	int rc;

	do {
		if (len + 4096 > cap) {
			cap = cap ? cap * 2 : 16384;
			nbuf = realloc(buf, cap);
			if (!nbuf) {
				free(buf);
				snprintf(in->err, in->err_size, "%s: out of memory", name);
				return -1;
			}
			buf = nbuf;
		}
		n = fread(buf + len, 1, cap - len, f);
		len += n;
	} while (n);
	if (ferror(f)) {
		free(buf);
		snprintf(in->err, in->err_size, "%s: read error", name);
		return -1;
	}
	kept = keep_name(in, name);
	if (!kept) {
		free(buf);
		snprintf(in->err, in->err_size, "%s: out of memory", name);
		return -1;
	}
	/* libyaml copies nothing from the input into nodes it does not own */
	rc = read_stream(in, kept, buf ? buf : "", len);
	free(buf);
	return rc;
}

static bool yaml_name(const char *n)
{
	size_t l = strlen(n);

	return n[0] != '.' &&
	       ((l > 5 && !strcmp(n + l - 5, ".yaml")) ||
		(l > 4 && !strcmp(n + l - 4, ".yml")) ||
		(l > 5 && !strcmp(n + l - 5, ".json")));
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static int read_path(struct mesh_docs *in, const char *path, int depth);

static int read_dir(struct mesh_docs *in, const char *path, int depth)
{
	struct dirent *de;
	char **names = NULL, **nn, full[4096];
	size_t n = 0, i;
	DIR *d = opendir(path);
	int rc = 0;

	if (!d) {
		snprintf(in->err, in->err_size, "%s: %s", path, strerror(errno));
		return -1;
	}
	while ((de = readdir(d))) {
		if (!yaml_name(de->d_name))
			continue;
		nn = realloc(names, (n + 1) * sizeof(*names));
		if (!nn || !(nn[n] = strdup(de->d_name))) {
			names = nn ? nn : names;
			rc = -1;
			snprintf(in->err, in->err_size, "%s: out of memory", path);
			break;
		}
		names = nn;
		n++;
	}
	closedir(d);
	if (!rc && !n) {
		snprintf(in->err, in->err_size,
			 "%s: no *.yaml, *.yml or *.json files in the directory", path);
		rc = -1;
	}
	if (names)
		qsort(names, n, sizeof(*names), cmp_str);
	for (i = 0; i < n; i++) {
		if (!rc) {
			snprintf(full, sizeof(full), "%s/%s", path, names[i]);
			rc = read_path(in, full, depth + 1);
		}
		free(names[i]);
	}
	free(names);
	return rc;
}

static int read_path(struct mesh_docs *in, const char *path, int depth)
{
	struct stat st;
	FILE *f;
	int rc;

	if (!strcmp(path, "-"))
		return read_fd_file(in, "<stdin>", stdin);
	if (stat(path, &st)) {
		snprintf(in->err, in->err_size, "%s: %s", path, strerror(errno));
		return -1;
	}
	if (S_ISDIR(st.st_mode)) {
		/* kubectl apply -f DIR reads the directory, not below it */
		if (depth > 0)
			return 0;
		return read_dir(in, path, depth);
	}
	f = fopen(path, "r");
	if (!f) {
		snprintf(in->err, in->err_size, "%s: %s", path, strerror(errno));
		return -1;
	}
	rc = read_fd_file(in, path, f);
	fclose(f);
	return rc;
}

/* --locality: the node's, unless the mesh file says another. */
static int set_node_locality(struct mesh_docs *in, const char *locality,
			     struct mesh_config *cfg)
{
	char l[MESH_LOCALITY_LEN];
	const char *why = strlen(locality) >= sizeof(l) ? "too long" :
			  mesh_locality_check(locality, l);

	if (why) {
		snprintf(in->err, in->err_size, "--locality %s: %s", locality, why);
		goto fail;
	}
	if (cfg->node_locality[0] && strcmp(cfg->node_locality, l)) {
		snprintf(in->err, in->err_size,
			 "--locality %s: the mesh file's node.locality is %s: give one",
			 locality, cfg->node_locality);
		goto fail;
	}
	memcpy(cfg->node_locality, l, sizeof(l));
	return 0;
fail:
	mesh_config_free(cfg);
	return -1;
}

/* --domain: a DNS name (letters, digits, '-', dots between labels). */
static const char *domain_problem(const char *d)
{
	size_t label = 0, i;

	if (!*d || strlen(d) > 253)
		return "expected a DNS domain such as cluster.local";
	for (i = 0; d[i]; i++) {
		char c = d[i];

		if (c == '.') {
			if (!label)
				return "an empty label";
			label = 0;
		} else if ((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-') {
			if (++label > 63)
				return "a label is longer than 63 characters";
		} else {
			return "only a-z 0-9 - and dots (lower case, as Kubernetes writes it)";
		}
	}
	return label ? NULL : "an empty label";
}

int mesh_input_model(struct mesh_docs *in, const struct mesh_input_opts *opts,
		     struct mesh_config *cfg, char *err, size_t err_size)
{
	const char *domain = opts && opts->domain ? opts->domain : "cluster.local";
	const char *why = domain_problem(domain);

	memset(cfg, 0, sizeof(*cfg));
	in->err = err;
	in->err_size = err_size;
	if (why) {
		snprintf(in->err, in->err_size, "--domain %s: %s", domain, why);
		return -1;
	}
	if (in->own && in->nr_res) {
		snprintf(in->err, in->err_size,
			 "%s:%d: kmesh's mesh file and resources with apiVersion/kind (the first: %s:%d) in one input: apply one or the other",
			 in->own_file, in->own_line, in->res[0].file,
			 line_of(in->res[0].root));
		return -1;
	}
	if (in->own) {
		if (mesh_config_parse_document(in->own_file, in->own, cfg,
					       in->err, in->err_size))
			return -1;
	} else if (!in->nr_res) {
		snprintf(in->err, in->err_size,
			 "%s:1: no documents: expected kmesh's mesh file or resources",
			 in->what);
		return -1;
	} else if (istio_translate(in->res, in->nr_res, domain, cfg, in->err,
				   in->err_size)) {
		return -1;
	}
	return opts && opts->locality ? set_node_locality(in, opts->locality, cfg) : 0;
}

void mesh_input_free(struct mesh_docs *in)
{
	size_t i;

	for (i = 0; i < in->nr_docs; i++) {
		yaml_document_delete(in->docs[i]);
		free(in->docs[i]);
	}
	for (i = 0; i < in->nr_files; i++)
		free(in->files[i]);
	free(in->docs);
	free(in->files);
	free(in->res);
	memset(in, 0, sizeof(*in));
}

int mesh_input_read(const char *const *paths, size_t nr_paths,
		    struct mesh_docs *in, char *err, size_t err_size)
{
	size_t i;
	int rc = 0;

	memset(in, 0, sizeof(*in));
	in->err = err;
	in->err_size = err_size;
	for (i = 0; i < nr_paths && !rc; i++)
		rc = read_path(in, paths[i], 0);
	in->what = !nr_paths ? "input" : strcmp(paths[0], "-") ? paths[0] : "<stdin>";
	return rc;
}

int mesh_input_read_text(const char *name, const char *text, size_t len,
			 struct mesh_docs *in, char *err, size_t err_size)
{
	memset(in, 0, sizeof(*in));
	in->err = err;
	in->err_size = err_size;
	in->what = name;
	return read_stream(in, name, text, len);
}

int mesh_input_load(const char *const *paths, size_t nr_paths,
		    const struct mesh_input_opts *opts, struct mesh_config *cfg,
		    char *err, size_t err_size)
{
	struct mesh_docs in;
	int rc;

	memset(cfg, 0, sizeof(*cfg));
	rc = mesh_input_read(paths, nr_paths, &in, err, err_size);
	if (!rc)
		rc = mesh_input_model(&in, opts, cfg, err, err_size);
	mesh_input_free(&in);
	return rc;
}

int mesh_input_parse(const char *name, const char *text, size_t len,
		     const struct mesh_input_opts *opts,
		     struct mesh_config *cfg, char *err, size_t err_size)
{
	struct mesh_docs in;
	int rc;

	memset(cfg, 0, sizeof(*cfg));
	rc = mesh_input_read_text(name, text, len, &in, err, err_size);
	if (!rc)
		rc = mesh_input_model(&in, opts, cfg, err, err_size);
	mesh_input_free(&in);
	return rc;
}

size_t mesh_fallback_unenforced(const struct mesh_config *cfg,
				void (*warn)(void *arg, const char *msg),
				void *arg)
{
	char msg[512];
	size_t i, j, k, n = 0;

	for (i = 0; i < cfg->nr_routes; i++) {
		const struct mesh_routes *rt = &cfg->routes[i];
		const struct mesh_service *s = &cfg->services[rt->service];

		for (j = 0; j < rt->nr_http; j++) {
			const struct mesh_http_route *r = &rt->http[j];
			bool other = false;

			if (r->action != KMESH_RT_A_ROUTE)
				continue;
			for (k = 0; k < s->nr_ports; k++)
				if (s->ports[k].http &&
				    s->ports[k].cluster != r->dests[0].cluster)
					other = true;
			if (r->nr_dests > 1)
				snprintf(msg, sizeof(msg),
					 "service %s: route %s: a weighted split over %zu clusters is counted, not enforced, in fallback mode: connections go to the port's cluster",
					 s->name, r->name, r->nr_dests);
			else if (other)
				snprintf(msg, sizeof(msg),
					 "service %s: route %s: cluster %s is counted, not enforced, in fallback mode: connections go to the port's cluster",
					 s->name, r->name,
					 cfg->clusters[r->dests[0].cluster].name);
			else
				continue;
			n++;
			if (warn)
				warn(arg, msg);
		}
	}
	return n;
}
