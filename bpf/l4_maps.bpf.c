// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/* The one definition of every L4 map; the entry files link against it. */
#define KMESH_L4_MAPS_DEFINE
#include "l4_maps.h"

char LICENSE[] SEC("license") = "Dual BSD/GPL";
