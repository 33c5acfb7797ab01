#!/bin/sh
# deps.sh - install the Debian packages that build, tests and lab need,
# when they are missing.  Runs as root on a fresh Debian 12 machine.
set -e
here=$(dirname "$0")
pkgs="build-essential pkg-config clang libclang-rt-14-dev
libmilter-dev libhiredis-dev libidn2-dev libgetdns-dev libcurl4-openssl-dev libjson-c-dev zlib1g-dev libssl-dev
openssl ca-certificates dns-root-data unbound nginx-light dnsutils curl jq debootstrap
redis-server postfix swaks python3-aiosmtpd python3-dkim systemd
python3-jsonschema python3-dnspython python3-nacl
postfix-mta-sts-resolver prometheus prometheus-node-exporter
debhelper lintian debootstrap
libmariadb3 libidn12 libspf2-2 libpq5 libgnutls-dane0 libldap-2.5-0 libperl5.36 libsasl2-2 libdb5.3 libsqlite3-0 libpcre2-8-0 libnsl2"
if [ -f "$here/lab/packages.txt" ]; then
	pkgs="$pkgs $(grep -v '^#' "$here/lab/packages.txt")"
fi
missing=
for p in $pkgs; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'ok installed' ||
		missing="$missing $p"
done
[ -z "$missing" ] && exit 0
if [ "$(id -u)" -ne 0 ]; then
	echo "deps: missing packages:$missing (run as root, or install them)" >&2
	exit 1
fi
echo "deps: installing$missing"
export DEBIAN_FRONTEND=noninteractive
echo "postfix postfix/main_mailer_type select No configuration" | debconf-set-selections
# Services must not start from the package scripts.
printf '#!/bin/sh\nexit 101\n' > /usr/sbin/policy-rc.d
chmod +x /usr/sbin/policy-rc.d
apt-get update -qq
apt-get install -y -qq --no-install-recommends $missing >/dev/null
rm -f /usr/sbin/policy-rc.d
