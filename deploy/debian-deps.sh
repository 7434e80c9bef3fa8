#!/usr/bin/env bash
# Installs what building and testing vpcflowd needs on Debian 12 / Ubuntu
# 22.04 or newer (Debian's packages only). Runs apt-get only when something
# is missing; uses sudo when not root.
set -euo pipefail
packages=(
	gcc pkg-config meson ninja-build
	libdeflate-dev libjsmn-dev libyaml-dev libssl-dev
	libcurl4-openssl-dev libjansson-dev libexpat1-dev librdkafka-dev libmaxminddb-dev
	libmicrohttpd-dev
	libcmocka-dev
	gzip bc time
	openssl kcat
)
# openssl makes the tests' TLS certificates; kcat reads Kafka back in the tests.
# Node.js runs the Kinesis/DynamoDB emulators of the tests and the demo.
command -v node >/dev/null 2>&1 && command -v npm >/dev/null 2>&1 || packages+=(nodejs npm)
missing=()
for p in "${packages[@]}"; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' ||
		missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0
sudo=""
[ "$(id -u)" -eq 0 ] || sudo="sudo"
echo "installing: ${missing[*]}" >&2
$sudo apt-get update -qq
DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
