#!/usr/bin/env bash
# Refresh the browser libraries served from app/static/vendor (consoles run in a closed
# network: no CDN at run time). The files are committed; run this only to change a version.
set -euo pipefail
cd "$(dirname "$0")/.."
SOCKETIO=socket.io-client@4.8.4
LEAFLET=leaflet@1.9.4
CHARTJS=chart.js@4.6.1
TWILIO_VOICE=@twilio/voice-sdk@2.18.5  # the browser softphone (Twilio.Device)
work=$(mktemp -d); trap 'rm -rf "$work"' EXIT
(cd "$work" && npm pack --silent "$SOCKETIO" "$LEAFLET" "$CHARTJS" "$TWILIO_VOICE" >/dev/null)
for tgz in "$work"/*.tgz; do mkdir -p "${tgz%.tgz}"; tar xzf "$tgz" -C "${tgz%.tgz}"; done
v=app/static/vendor
mkdir -p $v/leaflet/images
cp "$work"/socket.io-client-*/package/dist/socket.io.min.js $v/
cp "$work"/leaflet-*/package/dist/leaflet.js "$work"/leaflet-*/package/dist/leaflet.css $v/leaflet/
cp "$work"/leaflet-*/package/dist/images/* $v/leaflet/images/
cp "$work"/chart.js-*/package/dist/chart.umd.min.js $v/
cp "$work"/twilio-voice-sdk-*/package/dist/twilio.min.js $v/
cp "$work"/socket.io-client-*/package/LICENSE $v/LICENSE.socket.io-client
cp "$work"/leaflet-*/package/LICENSE $v/LICENSE.leaflet
cp "$work"/chart.js-*/package/LICENSE.md $v/LICENSE.chart.js
cp "$work"/twilio-voice-sdk-*/package/LICENSE.md $v/LICENSE.twilio-voice-sdk
# The source maps are not shipped; drop the comments that would make browsers ask for them.
sed -i 's|//# sourceMappingURL=.*||' $v/*.js $v/leaflet/leaflet.js
echo "vendored $SOCKETIO $LEAFLET $CHARTJS $TWILIO_VOICE into $v"
