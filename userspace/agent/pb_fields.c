// SPDX-License-Identifier: GPL-2.0-only
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "pb_fields.h"

bool pb_field_set(const ProtobufCMessage *m, const ProtobufCFieldDescriptor *f)
{
	const char *base = (const char *)m;
	const void *member = base + f->offset;

	if (f->label == PROTOBUF_C_LABEL_REPEATED)
		return *(const size_t *)(base + f->quantifier_offset) > 0;
	if (f->flags & PROTOBUF_C_FIELD_FLAG_ONEOF)
		return *(const uint32_t *)(base + f->quantifier_offset) == f->id;
	switch (f->type) {
	case PROTOBUF_C_TYPE_MESSAGE:
		return *(const void *const *)member != NULL;
	case PROTOBUF_C_TYPE_STRING: {
		const char *s = *(const char *const *)member;

		return s && s != f->default_value && s[0];
	}
	case PROTOBUF_C_TYPE_BYTES:
		return ((const ProtobufCBinaryData *)member)->len > 0;
	default:
		break;
	}
	if (f->label == PROTOBUF_C_LABEL_OPTIONAL && f->quantifier_offset)
		return *(const protobuf_c_boolean *)(base + f->quantifier_offset);
	switch (f->type) {
	case PROTOBUF_C_TYPE_BOOL:
		return *(const protobuf_c_boolean *)member;
	case PROTOBUF_C_TYPE_INT64: case PROTOBUF_C_TYPE_SINT64:
	case PROTOBUF_C_TYPE_SFIXED64: case PROTOBUF_C_TYPE_UINT64:
	case PROTOBUF_C_TYPE_FIXED64:
		return *(const uint64_t *)member != 0;
	case PROTOBUF_C_TYPE_DOUBLE:
		return *(const double *)member != 0;
	case PROTOBUF_C_TYPE_FLOAT:
		return *(const float *)member != 0;
	default:	/* 32-bit ints and enums */
		return *(const uint32_t *)member != 0;
	}
}

int pb_only(const ProtobufCMessage *m, const char *const *allowed,
	    const char *where, char *err, size_t err_size)
{
	const ProtobufCMessageDescriptor *d = m->descriptor;
	unsigned int i;
	size_t k, off;

	if (m->n_unknown_fields) {
		snprintf(err, err_size, "%s: field number %u: unknown to kmesh's %s protos",
			 where, m->unknown_fields[0].tag, d->name);
		return -1;
	}
	for (i = 0; i < d->n_fields; i++) {
		const ProtobufCFieldDescriptor *f = &d->fields[i];

		if (!pb_field_set(m, f))
			continue;
		for (k = 0; allowed[k] && strcmp(allowed[k], f->name); k++)
			;
		if (allowed[k])
			continue;
		off = (size_t)snprintf(err, err_size, "%s.%s: not supported by kmesh (supported:",
				       where, f->name);
		for (k = 0; allowed[k] && off < err_size; k++)
			off += (size_t)snprintf(err + off, err_size - off, "%s %s",
						k ? "," : "", allowed[k]);
		if (off < err_size)
			snprintf(err + off, err_size - off, "%s)", k ? "" : " none");
		return -1;
	}
	return 0;
}

const char *pb_field_name(const ProtobufCMessageDescriptor *d, unsigned int id)
{
	const ProtobufCFieldDescriptor *f = protobuf_c_message_descriptor_get_field(d, id);

	return f ? f->name : "?";
}

const char *pb_enum_name(const ProtobufCEnumDescriptor *d, int v)
{
	const ProtobufCEnumValue *e = protobuf_c_enum_descriptor_get_value(d, v);

	return e ? e->name : "?";
}
