#!/bin/sh
# Phase 0: once per identity this node must know: IP, short name, FQDN.
# (Muster's agent itself writes etc/hosts, hosts.equiv and ssh_known_hosts under the node's root.)
echo "knows $2 ($3) at $1"
