#!/bin/sh
# Installs Debian's Chromium and a CJK font for the browser tests when they are missing.
# Without root or apt the browser tests skip and say why.
set -u
if [ -x /usr/bin/chromium ] && fc-list 2>/dev/null | grep -qi "WenQuanYi"; then
    exit 0
fi
if [ "$(id -u)" != "0" ] || ! command -v apt-get >/dev/null 2>&1; then
    echo "浏览器测试将跳过 / browser tests will skip: install chromium and fonts-wqy-microhei"
    exit 0
fi
echo "Installing chromium and fonts-wqy-microhei for the browser tests..."
apt-get update -qq >/dev/null && \
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium fonts-wqy-microhei >/dev/null || \
    echo "could not install chromium; browser tests will skip"
