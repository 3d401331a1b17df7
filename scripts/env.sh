# Settings shared by every script and the Makefile. Source it; override by environment.
#
# KMESH_KABI: the Debian 6.1 kernel ABI the VM lane boots and builds against.
# Debian drops old ABIs from its mirror; when this one disappears, bump it here
# (one place) or override it: KMESH_KABI=6.1.0-58 make check.
KMESH_KABI_DEFAULT=6.1.0-57
: "${KMESH_KABI:=$KMESH_KABI_DEFAULT}"
# Downloaded kernel images, the extracted source and prepared objtrees live
# here so a warm run, even from a fresh clone, reuses them.
: "${KMESH_CACHE:=/var/cache/kmesh}"
KMESH_KVER="$KMESH_KABI-amd64"
export KMESH_KABI KMESH_CACHE KMESH_KVER
