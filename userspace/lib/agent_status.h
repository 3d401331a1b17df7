/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The xDS agent's view of its control plane, as a small text file it
 * rewrites (write aside, rename) on every change, for `kmeshctl status`.
 * Only the agent writes it; kmeshctl only reads it. The data plane never
 * depends on it.
 *
 * Path: $KMESH_AGENT_STATUS, default /run/kmesh/agent.status. Lines:
 *   server ADDRESS
 *   node ID
 *   state connected|disconnected SINCE_UNIX_SECONDS
 *   counts APPLIED REJECTED LAST_GENERATION
 *   ack TYPE VERSION NONCE           (one per type that has been ACKed)
 *   nack TYPE VERSION UNIX_SECONDS MESSAGE...   (the last NACK, if any)
 *   notapplicable COUNT FIRST-NOTE...  (fields of the applied config that
 *                                    have no effect in kmesh, if any)
 *   pid PID
 */
#ifndef KMESH_AGENT_STATUS_H
#define KMESH_AGENT_STATUS_H

#define AGENT_STATUS_DEFAULT "/run/kmesh/agent.status"

/* The path in use (the environment's, else the default). */
const char *agent_status_path(void);

#endif
