#!/bin/bash
# t_io.sh - the DNS (getdns) and HTTPS (libcurl) seams against real
# servers: the lab's unbound and nginx, and a hostile DNS server
exec bash "$(dirname "$0")/../tools/io-check.sh" "${BUILD:-build}"
