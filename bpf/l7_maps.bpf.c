// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/* The one definition of every L7 map; the L7 entry files link against it. */
#define KMESH_L7_MAPS_DEFINE
#include "l7_maps.h"

char LICENSE[] SEC("license") = "Dual BSD/GPL";
