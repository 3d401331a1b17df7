// SPDX-License-Identifier: GPL-2.0-only
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <bpf/bpf.h>

#include "caps.h"
#include "mode.h"
#include "pins.h"

static bool env_allows(const char *name)
{
	const char *env = getenv(name);

	return !(env && !strcmp(env, "0"));
}

void kmesh_mode_decide(struct kmesh_mode *m)
{
	bool connect = env_allows("KMESH_L7_CONNECT");
	bool msg = env_allows("KMESH_L7_MSG");
	struct kmesh_node_caps caps;

	memset(m, 0, sizeof(*m));
	/* no probe when the environment already decided both */
	if ((!connect && !msg) || kmesh_caps_detect(&caps))
		return;
	m->kfunc_connect = connect && caps.kfunc_callable[KMESH_PROBE_CONNECT4];
	m->kfunc_msg = msg && caps.kfunc_callable[KMESH_PROBE_SK_MSG];
}

const char *kmesh_mode_running(void)
{
	struct bpf_prog_info info = {};
	__u32 len = sizeof(info);
	char path[512];
	int fd;

	kmesh_pin_path(path, sizeof(path), "progs", KMESH_SK_MSG_PROG);
	fd = bpf_obj_get(path);
	if (fd < 0)
		return NULL;
	if (bpf_obj_get_info_by_fd(fd, &info, &len)) {
		close(fd);
		return NULL;
	}
	close(fd);
	return strcmp(info.name, KMESH_SK_MSG_KFUNC_PROG) ? "fallback" : "kfunc";
}
