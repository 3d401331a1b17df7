// SPDX-License-Identifier: GPL-2.0-only
/*
 * kmesh-agent: the node agent. Holds one ADS stream (state of the world)
 * to an xDS v3 management server, translates what it accepts into the
 * mesh model (xds_translate.c: the apply pipeline's model stage, for
 * xDS) and hands it to the same compile and install stages as `kmeshctl
 * apply` (pipeline.h). Everything it applies is pinned:
 * the agent dying, or losing the server, leaves the last applied
 * generation serving traffic.
 *
 *   kmesh-agent --xds 127.0.0.1:15010 [--node-id ID] [--cluster NAME]
 *               [--locality REGION/ZONE/SUBZONE] [--ca FILE] [--token-file FILE]
 */
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <bpf/libbpf.h>

#include "envoy/service/discovery/v3/discovery.pb-c.h"
#include "google/protobuf/struct.pb-c.h"
#include "google/rpc/status.pb-c.h"

#include "ads_stream.h"
#include "agent_status.h"
#include "mesh_config.h"
#include "pipeline.h"
#include "stage_clock.h"
#include "xds_translate.h"

/* google.rpc.Code INVALID_ARGUMENT: what a NACK carries */
#define RPC_INVALID_ARGUMENT 3

#define BACKOFF_MIN_MS 250
#define BACKOFF_MAX_MS 30000

static volatile sig_atomic_t stop;
static char agent_version[32];

struct agent {
	struct ads_target target;
	const char *node_id, *node_cluster;
	/* node.locality: istiod ranks endpoints into EDS priorities by it */
	Envoy__Config__Core__V3__Locality locality;
	char locality_text[MESH_LOCALITY_LEN];
	/* node.metadata: string values (istiod reads e.g. NAMESPACE, CLUSTER_ID) */
	Google__Protobuf__Struct metadata;
	Google__Protobuf__Struct__FieldsEntry *md_entries;
	Google__Protobuf__Value *md_values;
	Google__Protobuf__Struct__FieldsEntry **md_ptrs;
	struct xds_state st;			/* the accepted resources */
	char version[XDS_NR_TYPES][256];	/* last ACKed version_info */
	char nonce[XDS_NR_TYPES][256];		/* last response nonce seen */
	char **subscribed[XDS_NR_TYPES];	/* EDS/RDS names last asked for */
	size_t nr_subscribed[XDS_NR_TYPES];
	bool node_sent;
	unsigned long applied, rejected;
	/* for kmeshctl status (agent_status.h) */
	bool connected;
	time_t since;
	__u64 generation;
	bool acked[XDS_NR_TYPES];
	char nack_type[32], nack_version[256], nack_msg[1024];
	time_t nack_time;
	unsigned long n_applied[XDS_NR_TYPES], n_accepted[XDS_NR_TYPES],
		      n_rejected[XDS_NR_TYPES];
	unsigned long switches;
	double switch_ms_sum, switch_ms_last;
	/* what the applied config holds that kmesh accepted as not applicable */
	unsigned long na_applied;
	char na_example[1024];
	/* what this agent installed in each slot: an update then writes only
	 * what changed (l4_install_cache in l4_bpf.h) */
	struct l4_install_cache installed;
	/* The model of the generation this agent applied last (its L7 rules
	 * compiled once, l7_check()): an update of ClusterLoadAssignments
	 * alone re-translates only the clusters whose assignment changed
	 * (xds_translate_eds()) and compiles this model again. Valid while
	 * it is the translation of st: any other update accepted without
	 * being applied drops it. */
	struct mesh_config model;
	bool model_valid;
	/* the L7 output installed last in each slot, compiled from the
	 * model's L7 rules: an update of endpoints alone takes it again when
	 * the ids are the same (pipeline_compile_reusing()) */
	struct l7_gen l7_installed[2];
	/* the l4 part of the generation this agent switched to last: its
	 * ids are the registry while nobody else installs, and an update of
	 * endpoints alone takes its unchanged clusters (pipeline.h) */
	struct l4_gen l4_last;
};

/* Rewrite the status file; a failure costs only the operator's view. */
static void write_status(const struct agent *a)
{
	const char *path = agent_status_path();
	char tmp[4096], dir[4096], *slash;
	FILE *f;
	int t;

	snprintf(dir, sizeof(dir), "%s", path);
	slash = strrchr(dir, '/');
	if (slash && slash != dir) {
		*slash = 0;
		mkdir(dir, 0755);
	}
	snprintf(tmp, sizeof(tmp), "%s.tmp", path);
	f = fopen(tmp, "w");
	if (!f)
		return;
	fprintf(f, "server %s\nnode %s\nstate %s %lld\ncounts %lu %lu %llu\n",
		a->target.address, a->node_id, a->connected ? "connected" : "disconnected",
		(long long)a->since, a->applied, a->rejected,
		(unsigned long long)a->generation);
	for (t = 0; t < XDS_NR_TYPES; t++)
		if (a->acked[t])
			fprintf(f, "ack %s %s %s\n", xds_type_short(t),
				a->version[t][0] ? a->version[t] : "-",
				a->nonce[t][0] ? a->nonce[t] : "-");
	for (t = 0; t < XDS_NR_TYPES; t++)
		fprintf(f, "updates %s %lu %lu %lu\n", xds_type_short(t), a->n_applied[t],
			a->n_accepted[t], a->n_rejected[t]);
	fprintf(f, "switch %lu %.3f %.3f\n", a->switches, a->switch_ms_sum, a->switch_ms_last);
	if (a->nack_time)
		fprintf(f, "nack %s %s %lld %s\n", a->nack_type, a->nack_version,
			(long long)a->nack_time, a->nack_msg);
	if (a->na_applied)
		fprintf(f, "notapplicable %lu %s\n", a->na_applied, a->na_example);
	fprintf(f, "pid %d\n", (int)getpid());
	if (fclose(f) == 0)
		rename(tmp, path);
	else
		unlink(tmp);
}

static void logf_(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void logf_(const char *fmt, ...)
{
	struct timespec ts;
	struct tm tm;
	va_list ap;

	clock_gettime(CLOCK_REALTIME, &ts);
	gmtime_r(&ts.tv_sec, &tm);
	fprintf(stderr, "%02d:%02d:%02d.%03ld kmesh-agent: ", tm.tm_hour, tm.tm_min,
		tm.tm_sec, ts.tv_nsec / 1000000);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

/*
 * Not-applicable notes: counted per translation (the applied one's count
 * goes to the status file); each distinct note logged once in the agent's
 * life, since every translation repeats them (istiod's retry_policy is on
 * every route). Distinct notes are remembered by a 64-bit hash in a
 * fixed table; once it is full, new ones are counted, not logged.
 */
#define NOTES_SEEN_SLOTS 16384
static unsigned long notes;
static char first_note[1024];
static uint64_t notes_seen[NOTES_SEEN_SLOTS];
static unsigned long notes_seen_nr, notes_unlogged;

static bool note_is_new(const char *msg)
{
	uint64_t h = 1469598103934665603ULL;
	size_t i;

	for (; *msg; msg++)
		h = (h ^ (unsigned char)*msg) * 1099511628211ULL;
	h |= 1;	/* 0 marks a free slot */
	for (i = h % NOTES_SEEN_SLOTS;; i = (i + 1) % NOTES_SEEN_SLOTS) {
		if (notes_seen[i] == h)
			return false;
		if (!notes_seen[i])
			break;
	}
	if (notes_seen_nr >= NOTES_SEEN_SLOTS / 2) {
		notes_unlogged++;
		return false;
	}
	notes_seen[i] = h;
	notes_seen_nr++;
	return true;
}

static void translate_note(const char *msg)
{
	if (!notes++)
		snprintf(first_note, sizeof(first_note), "%s", msg);
	if (note_is_new(msg))
		logf_("%s", msg);
}

static int send_request(struct agent *a, struct ads_stream *s, enum xds_type t,
			const char *error_detail)
{
	Envoy__Service__Discovery__V3__DiscoveryRequest req =
		ENVOY__SERVICE__DISCOVERY__V3__DISCOVERY_REQUEST__INIT;
	Envoy__Config__Core__V3__Node node = ENVOY__CONFIG__CORE__V3__NODE__INIT;
	Google__Rpc__Status status = GOOGLE__RPC__STATUS__INIT;
	size_t len;
	void *buf;
	int rc;

	req.version_info = a->version[t];
	req.response_nonce = a->nonce[t];
	req.type_url = (char *)xds_type_url(t);
	if (t == XDS_EDS || t == XDS_RDS) {
		req.resource_names = a->subscribed[t];
		req.n_resource_names = a->nr_subscribed[t];
	}
	if (!a->node_sent) {
		node.id = (char *)a->node_id;
		node.cluster = (char *)a->node_cluster;
		if (a->locality_text[0])
			node.locality = &a->locality;
		node.user_agent_name = "kmesh";
		node.user_agent_version_type_case =
			ENVOY__CONFIG__CORE__V3__NODE__USER_AGENT_VERSION_TYPE_USER_AGENT_VERSION;
		node.user_agent_version = agent_version;
		if (a->metadata.n_fields)
			node.metadata = &a->metadata;
		req.node = &node;
	}
	if (error_detail) {
		status.code = RPC_INVALID_ARGUMENT;
		status.message = (char *)error_detail;
		req.error_detail = &status;
	}
	len = envoy__service__discovery__v3__discovery_request__get_packed_size(&req);
	buf = malloc(len ? len : 1);
	if (!buf)
		return -1;
	envoy__service__discovery__v3__discovery_request__pack(&req, buf);
	rc = ads_stream_send(s, buf, len);
	free(buf);
	if (!rc)
		a->node_sent = true;
	return rc;
}

/* Ask for the EDS/RDS names the accepted state refers to, when they changed. */
static int resubscribe(struct agent *a, struct ads_stream *s, enum xds_type t, bool force)
{
	char **names;
	size_t n, i;
	bool same;

	if (xds_wanted_names(&a->st, t, &names, &n))
		return -1;
	same = n == a->nr_subscribed[t];
	for (i = 0; same && i < n; i++)
		same = !strcmp(names[i], a->subscribed[t][i]);
	if (same && !force) {
		for (i = 0; i < n; i++)
			free(names[i]);
		free(names);
		return 0;
	}
	for (i = 0; i < a->nr_subscribed[t]; i++)
		free(a->subscribed[t][i]);
	free(a->subscribed[t]);
	a->subscribed[t] = names;
	a->nr_subscribed[t] = n;
	/* Nothing to ask for yet: an empty EDS/RDS request would be a
	 * wildcard. */
	if (!n && !a->st.received[t])
		return 0;
	return send_request(a, s, t, NULL);
}

static double ms_since(const struct timespec *t0)
{
	struct timespec now;

	clock_gettime(CLOCK_MONOTONIC, &now);
	return (double)(now.tv_sec - t0->tv_sec) * 1e3 +
	       (double)(now.tv_nsec - t0->tv_nsec) / 1e6;
}

static void drop_l7_installed(struct agent *a)
{
	l7_gen_free(&a->l7_installed[0]);
	l7_gen_free(&a->l7_installed[1]);
}

/* @received: when the response's last byte came off the stream. */
static void handle_response(struct agent *a, struct ads_stream *s, const void *buf, size_t len,
			    const struct timespec *received)
{
	Envoy__Service__Discovery__V3__DiscoveryResponse *resp;
	struct xds_set next = {}, prev;
	struct mesh_config whole_cfg, *cfg = &whole_cfg;
	struct xds_eds_swap swap = {};
	char err[1024], msg[1200], stages[256];
	double translated_ms;
	bool eds_only = false, precompile = false;
	int t, rc;
	__u64 gen;

	stage_clock_start(received);
	resp = envoy__service__discovery__v3__discovery_response__unpack(NULL, len, buf);
	if (!resp) {
		logf_("undecodable DiscoveryResponse (%zu bytes): ignored", len);
		return;
	}
	t = xds_type_from_url(resp->type_url);
	if (t < 0) {
		logf_("response of type %s, which kmesh never asked for: ignored", resp->type_url);
		goto out;
	}
	snprintf(a->nonce[t], sizeof(a->nonce[t]), "%s", resp->nonce);
	if (xds_decode(t, resp->resources, resp->n_resources, &a->st.set[t], &next, err,
		       sizeof(err)))
		goto nack;
	stage_mark(STAGE_DECODE);
	/* Translate with this type replaced; keep the old set until it passes. */
	prev = a->st.set[t];
	a->st.set[t] = next;
	notes = 0;
	rc = XDS_EDS_WHOLE;
	if (t == XDS_EDS && a->model_valid) {
		/* Only assignments changed: the applied model, with the
		 * clusters whose assignment differs translated again. */
		rc = xds_translate_eds(&a->st, &prev, &a->model, &swap, err, sizeof(err));
		eds_only = rc != XDS_EDS_WHOLE;
		if (eds_only)
			cfg = &a->model;
	}
	if (rc == XDS_EDS_WHOLE) {
		rc = xds_translate(&a->st, cfg, err, sizeof(err));
		if (!rc)
			memcpy(cfg->node_locality, a->locality_text, sizeof(cfg->node_locality));
	}
	stage_mark(STAGE_MODEL);
	translated_ms = ms_since(received);
	if (notes_unlogged) {
		logf_("%lu more notes not logged (too many distinct ones)", notes_unlogged);
		notes_unlogged = 0;
	}
	if (rc == XDS_T_ERROR) {
		a->st.set[t] = prev;
		xds_set_free(&next);
		goto nack;
	}
	if (rc == XDS_T_OK && !((a->st.received[XDS_CDS] || t == XDS_CDS) &&
				(a->st.received[XDS_LDS] || t == XDS_LDS))) {
		/* Not before both clusters and listeners came once: an apply
		 * now would switch to half a mesh. */
		snprintf(err, sizeof(err), "waiting for the first %s",
			 a->st.received[XDS_CDS] || t == XDS_CDS ? "Listeners" : "Clusters");
		mesh_config_free(cfg);
		rc = XDS_T_WAITING;
	}
	if (rc == XDS_T_OK) {
		struct mesh_generation built;
		double compiled_ms;
		int e;

		/* model (above) -> compile -> install */
		struct pipeline_reuse reuse = { .cache = &a->installed };
		bool *changed = NULL;

		if (a->l4_last.nr_ids)
			reuse.l4_last = &a->l4_last;
		if (eds_only) {
			reuse.l7_installed = a->l7_installed;
			/* the model a->l4_last was built from, but for these */
			changed = calloc(cfg->nr_clusters + 1, sizeof(*changed));
			for (size_t i = 0; changed && i < swap.n; i++)
				changed[swap.idx[i]] = true;
			reuse.changed = changed;
		}
		e = pipeline_compile_reusing(cfg, true, &reuse, &built, msg, sizeof(msg));
		free(changed);
		compiled_ms = ms_since(received);
		if (!e)
			e = pipeline_install(&built, &a->installed, &gen, msg, sizeof(msg));
		if (!e && built.txn.next.slot < 2) {
			/* kept for the next update of endpoints alone into this
			 * slot; a model translated anew makes both stale */
			if (!eds_only)
				drop_l7_installed(a);
			l7_gen_free(&a->l7_installed[built.txn.next.slot]);
			a->l7_installed[built.txn.next.slot] = built.l7;
			memset(&built.l7, 0, sizeof(built.l7));
		}
		if (!e) {
			l4_gen_free(&a->l4_last);
			a->l4_last = built.l4;
			memset(&built.l4, 0, sizeof(built.l4));
		}
		mesh_generation_free(&built);
		if (e) {
			if (eds_only)
				xds_eds_revert(cfg, &swap);
			else
				mesh_config_free(cfg);
			a->st.set[t] = prev;
			xds_set_free(&next);
			snprintf(err, sizeof(err), "%s version %s: kmesh could not apply it: %s",
				 xds_type_short(t), resp->version_info, msg);
			goto nack;
		}
		a->applied++;
		a->n_applied[t]++;
		a->generation = gen;
		a->switch_ms_last = ms_since(received);
		a->switch_ms_sum += a->switch_ms_last;
		a->switches++;
		if (!eds_only) {
			/* (an assignment brings no notes: the model's stay) */
			a->na_applied = notes;
			snprintf(a->na_example, sizeof(a->na_example), "%s",
				 notes ? first_note : "");
			for (char *c = a->na_example; *c; c++)
				if (*c == '\n')
					*c = ' ';
		}
		logf_("%s version %s: applied as generation %llu (%zu services, %zu clusters), switched %.1f ms after receipt (translated by %.1f ms: %s, compiled by %.1f ms, installed %s); stages ms: %s",
		      xds_type_short(t), resp->version_info, (unsigned long long)gen,
		      cfg->nr_services, cfg->nr_clusters, a->switch_ms_last, translated_ms,
		      eds_only ? "changed assignments" : "everything",
		      compiled_ms, a->installed.incremental ? "what changed" : "whole",
		      stage_clock_format(stages, sizeof(stages)));
		if (eds_only) {
			xds_eds_commit(&swap);
		} else {
			mesh_config_free(&a->model);
			a->model = whole_cfg;
			a->model_valid = true;
			precompile = true;
		}
	} else {
		/* st moved on without an apply: the model is not its translation */
		mesh_config_free(&a->model);
		a->model_valid = false;
		drop_l7_installed(a);
		a->n_accepted[t]++;
		logf_("%s version %s: accepted, not applied yet: %s", xds_type_short(t),
		      resp->version_info, err);
	}
	xds_set_free(&prev);
	a->st.received[t] = true;
	snprintf(a->version[t], sizeof(a->version[t]), "%s", resp->version_info);
	send_request(a, s, t, NULL);
	a->acked[t] = true;
	logf_("ACK %s version %s nonce %s", xds_type_short(t), resp->version_info, resp->nonce);
	if (t == XDS_CDS)
		resubscribe(a, s, XDS_EDS, false);
	else if (t == XDS_LDS)
		resubscribe(a, s, XDS_RDS, false);
	if (precompile) {
		struct l7_check_err ce;

		/* After the ACK, off the update's path: the model's L7 rules
		 * compiled once, so the compiles of the EDS updates that
		 * follow bind them to ids (l7_compile()) rather than build
		 * them again. It compiles what l7_compile() just compiled;
		 * should it fail, they are built per compile as before. */
		if (l7_check(&a->model, &ce))
			logf_("L7 rules not precompiled (%s): EDS updates compile them again", ce.msg);
	}
	goto out;
nack:
	a->rejected++;
	if (t >= 0)
		a->n_rejected[t]++;
	logf_("NACK %s version %s nonce %s: %s", xds_type_short(t), resp->version_info,
	      resp->nonce, err);
	send_request(a, s, t, err);
	snprintf(a->nack_type, sizeof(a->nack_type), "%s", xds_type_short(t));
	snprintf(a->nack_version, sizeof(a->nack_version), "%s",
		 resp->version_info[0] ? resp->version_info : "-");
	snprintf(a->nack_msg, sizeof(a->nack_msg), "%s", err);
	for (char *c = a->nack_msg; *c; c++)
		if (*c == '\n')
			*c = ' ';
	a->nack_time = time(NULL);
out:
	envoy__service__discovery__v3__discovery_response__free_unpacked(resp, NULL);
	write_status(a);
}

/* One stream's life; true when a response came (the server was good). */
static bool run_stream(struct agent *a)
{
	struct ads_stream *s;
	bool got = false;
	char err[512];
	int t;

	s = ads_stream_open(&a->target, err, sizeof(err));
	if (!s) {
		logf_("connect %s: %s", a->target.address, err);
		return false;
	}
	logf_("stream to %s opened", a->target.address);
	/* (Re)subscribe: wildcard CDS and LDS with the versions we hold, so
	 * a server that has nothing new need send nothing new; then the
	 * EDS and RDS names the held state refers to. */
	a->node_sent = false;
	for (t = 0; t < XDS_NR_TYPES; t++)
		a->nonce[t][0] = 0;
	send_request(a, s, XDS_CDS, NULL);
	send_request(a, s, XDS_LDS, NULL);
	resubscribe(a, s, XDS_EDS, true);
	resubscribe(a, s, XDS_RDS, true);
	while (!stop) {
		void *msg = NULL;
		size_t len = 0;
		enum ads_event ev = ads_stream_poll(s, 500, &msg, &len, err, sizeof(err));
		struct timespec received;

		clock_gettime(CLOCK_MONOTONIC, &received);

		if (ev == ADS_EV_TIMEOUT)
			continue;
		if (ev == ADS_EV_CLOSED) {
			/* The status first: whoever reads the log line may
			 * look at kmeshctl status next. */
			if (got) {
				a->connected = false;
				a->since = time(NULL);
				write_status(a);
			}
			logf_("stream to %s: %s; the data plane keeps the last applied config",
			      a->target.address, err);
			break;
		}
		if (!got) {
			/* a response is the proof the server is there */
			a->connected = true;
			a->since = time(NULL);
		}
		got = true;
		handle_response(a, s, msg, len, &received);
		free(msg);
	}
	ads_stream_close(s);
	if (a->connected) {	/* stopped while connected */
		a->connected = false;
		a->since = time(NULL);
		write_status(a);
	}
	return got;
}

static void on_signal(int sig)
{
	(void)sig;
	stop = 1;
}

static char *read_token(const char *path)
{
	char buf[8192];
	size_t n;
	FILE *f = fopen(path, "r");

	if (!f)
		return NULL;
	n = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	while (n && (buf[n - 1] == '\n' || buf[n - 1] == '\r' || buf[n - 1] == ' '))
		n--;
	buf[n] = 0;
	return strdup(buf);
}

/* --metadata KEY=VALUE, repeatable: one string field of node.metadata. */
static int add_metadata(struct agent *a, char *kv)
{
	char *eq = strchr(kv, '=');
	size_t n = a->metadata.n_fields;
	void *e, *v, *p;

	if (!eq || eq == kv)
		return -1;
	*eq = 0;
	e = realloc(a->md_entries, (n + 1) * sizeof(*a->md_entries));
	if (e)
		a->md_entries = e;
	v = realloc(a->md_values, (n + 1) * sizeof(*a->md_values));
	if (v)
		a->md_values = v;
	p = realloc(a->md_ptrs, (n + 1) * sizeof(*a->md_ptrs));
	if (p)
		a->md_ptrs = p;
	if (!e || !v || !p)
		return -1;
	for (size_t i = 0; i < n; i++) {	/* entries moved: re-link */
		a->md_entries[i].value = &a->md_values[i];
		a->md_ptrs[i] = &a->md_entries[i];
	}
	a->md_values[n] = (Google__Protobuf__Value)GOOGLE__PROTOBUF__VALUE__INIT;
	a->md_values[n].kind_case = GOOGLE__PROTOBUF__VALUE__KIND_STRING_VALUE;
	a->md_values[n].string_value = eq + 1;
	a->md_entries[n] = (Google__Protobuf__Struct__FieldsEntry)GOOGLE__PROTOBUF__STRUCT__FIELDS_ENTRY__INIT;
	a->md_entries[n].key = kv;
	a->md_entries[n].value = &a->md_values[n];
	a->md_ptrs[n] = &a->md_entries[n];
	a->metadata.fields = a->md_ptrs;
	a->metadata.n_fields = n + 1;
	return 0;
}

/* --locality: checked as the mesh file's node.locality is, then split
 * into the Node's region, zone and sub_zone. */
static int set_locality(struct agent *a, const char *arg)
{
	static char parts[3][64];
	const char *why = strlen(arg) >= MESH_LOCALITY_LEN ? "too long" :
			  mesh_locality_check(arg, a->locality_text);
	char *p[3] = { parts[0], parts[1], parts[2] };
	const char *s = a->locality_text;
	int i;

	if (why) {
		fprintf(stderr, "kmesh-agent: --locality %s: %s\n", arg, why);
		a->locality_text[0] = 0;
		return -1;
	}
	for (i = 0; i < 3; i++) {
		size_t n = strcspn(s, "/");

		memcpy(parts[i], s, n);
		parts[i][n] = 0;
		s += n + (s[n] == '/');
	}
	envoy__config__core__v3__locality__init(&a->locality);
	a->locality.region = p[0];
	a->locality.zone = p[1];
	a->locality.sub_zone = p[2];
	return 0;
}

static int silent_print(enum libbpf_print_level level, const char *fmt, va_list ap)
{
	return level == LIBBPF_WARN ? vfprintf(stderr, fmt, ap) : 0;
}

static void usage(FILE *f)
{
	fprintf(f, "usage: kmesh-agent --xds HOST:PORT [--node-id ID] [--cluster NAME]\n"
		   "                   [--locality REGION[/ZONE[/SUBZONE]]]\n"
		   "                   [--metadata KEY=VALUE]... [--ca FILE] [--token-file FILE]\n"
		   "Feeds the running kmesh (kmeshctl up) from an xDS v3 ADS server.\n");
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "xds", required_argument, NULL, 'x' },
		{ "node-id", required_argument, NULL, 'n' },
		{ "cluster", required_argument, NULL, 'c' },
		{ "ca", required_argument, NULL, 'a' },
		{ "token-file", required_argument, NULL, 't' },
		{ "metadata", required_argument, NULL, 'm' },
		{ "locality", required_argument, NULL, 'l' },
		{ "help", no_argument, NULL, 'h' },
		{},
	};
	struct agent a = { .node_cluster = "kmesh",
			   .metadata = GOOGLE__PROTOBUF__STRUCT__INIT };
	char host[256], node_id[512];
	unsigned int backoff = BACKOFF_MIN_MS;
	struct sigaction sa = { .sa_handler = on_signal };
	int c;

	while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (c) {
		case 'x': a.target.address = optarg; break;
		case 'n': a.node_id = optarg; break;
		case 'c': a.node_cluster = optarg; break;
		case 'a': a.target.ca_file = optarg; break;
		case 't':
			a.target.token = read_token(optarg);
			if (!a.target.token) {
				fprintf(stderr, "kmesh-agent: --token-file %s: %s\n", optarg, strerror(errno));
				return 1;
			}
			break;
		case 'l':
			if (set_locality(&a, optarg))
				return 2;
			break;
		case 'm':
			if (add_metadata(&a, optarg)) {
				fprintf(stderr, "kmesh-agent: --metadata %s: expected KEY=VALUE\n", optarg);
				return 2;
			}
			break;
		case 'h': usage(stdout); return 0;
		default: usage(stderr); return 2;
		}
	}
	if (!a.target.address || optind != argc) {
		usage(stderr);
		return 2;
	}
	if (!a.node_id) {
		/* Istio's sidecar form: TYPE~IP~ID~DOMAIN */
		if (gethostname(host, sizeof(host)))
			snprintf(host, sizeof(host), "localhost");
		snprintf(node_id, sizeof(node_id), "kmesh~0.0.0.0~%s~cluster.local", host);
		a.node_id = node_id;
	}
	if (!l4_is_up()) {
		fprintf(stderr, "kmesh-agent: kmesh is not up under %s: run kmeshctl up first\n",
			kmesh_pin_dir());
		return 1;
	}
	snprintf(agent_version, sizeof(agent_version), "%d.%d.%d", KMESH_VERSION_MAJOR,
		 KMESH_VERSION_MINOR, KMESH_VERSION_PATCH);
	libbpf_set_print(silent_print);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	srand((unsigned int)(time(NULL) ^ getpid()));
	xds_translate_note = translate_note;
	ads_global_init();
	logf_("node %s (cluster %s), server %s%s", a.node_id, a.node_cluster,
	      a.target.address, a.target.ca_file ? " (TLS)" : " (plaintext)");
	a.since = time(NULL);
	write_status(&a);
	while (!stop) {
		unsigned int wait;

		if (run_stream(&a))
			backoff = BACKOFF_MIN_MS;
		if (stop)
			break;
		/* Exponential backoff with full jitter over the upper half. */
		wait = backoff / 2 + (unsigned int)rand() % (backoff / 2 + 1);
		logf_("reconnecting in %u ms", wait);
		for (unsigned int slept = 0; slept < wait && !stop; slept += 50)
			usleep(50 * 1000);
		backoff = backoff * 2 > BACKOFF_MAX_MS ? BACKOFF_MAX_MS : backoff * 2;
	}
	logf_("stopped (%lu applied, %lu rejected); the data plane keeps the last applied config",
	      a.applied, a.rejected);
	a.connected = false;
	a.since = time(NULL);
	write_status(&a);
	for (c = 0; c < XDS_NR_TYPES; c++) {
		xds_set_free(&a.st.set[c]);
		for (size_t i = 0; i < a.nr_subscribed[c]; i++)
			free(a.subscribed[c][i]);
		free(a.subscribed[c]);
	}
	free((char *)a.target.token);
	free(a.md_entries);
	free(a.md_values);
	free(a.md_ptrs);
	l4_install_cache_free(&a.installed);
	mesh_config_free(&a.model);
	drop_l7_installed(&a);
	l4_gen_free(&a.l4_last);
	ads_global_shutdown();
	return 0;
}
