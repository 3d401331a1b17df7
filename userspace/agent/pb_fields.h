/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Strict reading of protobuf-c messages: a field the agent does not
 * translate must not be set. The check walks the message's descriptor, so
 * a field added to the protos later is refused too, never passed over.
 */
#ifndef KMESH_AGENT_PB_FIELDS_H
#define KMESH_AGENT_PB_FIELDS_H

#include <stdbool.h>
#include <stddef.h>
#include <protobuf-c/protobuf-c.h>

/* Is @field set in @m (repeated: non-empty; oneof: the chosen one;
 * proto3 scalar: non-zero)? */
bool pb_field_set(const ProtobufCMessage *m, const ProtobufCFieldDescriptor *f);

/*
 * 0 when every set field of @m is named in @allowed (NULL-terminated) and
 * the message carries no unknown fields; otherwise -1 with @err set to
 * "WHERE.FIELD: not supported (SUPPORTED: a, b, ...)".
 */
int pb_only(const ProtobufCMessage *m, const char *const *allowed,
	    const char *where, char *err, size_t err_size);

/* The name of field number @id of @d ("authenticated"), or "?". */
const char *pb_field_name(const ProtobufCMessageDescriptor *d, unsigned int id);
/* The name of value @v of enum @d ("LOAD_BALANCING_POLICY_CONFIG"), or "?". */
const char *pb_enum_name(const ProtobufCEnumDescriptor *d, int v);

#endif
