// SPDX-License-Identifier: GPL-2.0-only
#include <stdlib.h>

#include "agent_status.h"

const char *agent_status_path(void)
{
	const char *p = getenv("KMESH_AGENT_STATUS");

	return p && p[0] ? p : AGENT_STATUS_DEFAULT;
}
