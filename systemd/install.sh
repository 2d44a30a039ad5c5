#!/usr/bin/env bash
# Install the kiosk as a service on Raspberry Pi OS (64-bit, Debian based).
#
#   sudo systemd/install.sh              install or update, then start the service
#   systemd/install.sh --dry-run         say what would change, change nothing
#   systemd/install.sh --root DIR        install the files under DIR (a throwaway root
#                                        for tests: no packages, user or systemctl)
#   --no-venv                            skip the virtual environment (tests)
#   --no-model                           skip the speech model download
#
# Idempotent: every step checks first, prints "ok" when there is nothing to do, and a
# second run changes nothing. The config file is written only if absent: staff edits
# are never overwritten.
set -euo pipefail

SRC=$(cd "$(dirname "$0")/.." && pwd)
ROOT=""
DRY=0
VENV=1
MODEL=1
while [ $# -gt 0 ]; do
    case "$1" in
        --dry-run) DRY=1 ;;
        --root) ROOT=$(realpath -m "$2"); shift ;;
        --no-venv) VENV=0 ;;
        --no-model) MODEL=0 ;;
        *) echo "install.sh: unknown option $1" >&2; exit 2 ;;
    esac
    shift
done

APP="$ROOT/opt/kiosk"
ETC="$ROOT/etc/kiosk"
UNIT="$ROOT/etc/systemd/system/kiosk.service"
STATE="$ROOT/var/lib/kiosk"
PACKAGES=(python3-venv libportaudio2 libspeexdsp1 espeak-ng alsa-utils)
CHANGED=0

ok() { echo "ok: $1"; }
change() {
    CHANGED=1
    if [ "$DRY" = 1 ]; then echo "would: $1"; return 1; fi
    echo "doing: $1"
}

# 1. System packages (the host's own; not in a throwaway root).
if [ -z "$ROOT" ]; then
    missing=()
    for p in "${PACKAGES[@]}"; do
        dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p")
    done
    if [ ${#missing[@]} -eq 0 ]; then
        ok "packages ${PACKAGES[*]}"
    elif change "apt-get install ${missing[*]}"; then
        apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}"
    fi
fi

# 2. The unprivileged service user, in the audio group.
if [ -z "$ROOT" ]; then
    if id kiosk >/dev/null 2>&1 && id -nG kiosk | grep -qw audio; then
        ok "user kiosk (audio group)"
    elif change "create user kiosk in group audio"; then
        id kiosk >/dev/null 2>&1 || useradd --system --home-dir /var/lib/kiosk --shell /usr/sbin/nologin kiosk
        usermod -aG audio kiosk
    fi
fi

# 3. The application: source files copied when they differ.
sync_tree() {
    local differ
    differ=$(cd "$SRC" && for f in pyproject.toml README.md $(find kiosk prompts systemd -type f -not -path '*/__pycache__/*' | sort); do
        cmp -s "$f" "$APP/$f" || echo "$f"
    done)
    if [ -z "$differ" ]; then
        ok "application files in $APP"
    elif change "copy $(echo "$differ" | wc -l) changed file(s) to $APP"; then
        (cd "$SRC" && echo "$differ" | while read -r f; do install -D -m 0644 "$f" "$APP/$f"; done)
    fi
}
sync_tree

# 4. The virtual environment, reinstalled only when the application changed.
if [ "$VENV" = 1 ]; then
    stamp="$APP/.venv/.kiosk-installed"
    want=$(cd "$APP" 2>/dev/null && find kiosk prompts pyproject.toml -type f -not -path '*/__pycache__/*' -print0 2>/dev/null | sort -z | xargs -0 sha256sum 2>/dev/null | sha256sum | cut -d' ' -f1 || true)
    if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$want" ]; then
        ok "virtual environment $APP/.venv"
    elif change "create or update $APP/.venv"; then
        [ -x "$APP/.venv/bin/python" ] || python3 -m venv "$APP/.venv"
        "$APP/.venv/bin/pip" install --quiet "$APP"
        echo "$want" > "$stamp"
    fi
fi

# 5. The speech model (Vosk English). Without internet the kiosk still runs, on the
#    bundled pocketsphinx, and says so in its log.
if [ "$VENV" = 1 ] && [ "$MODEL" = 1 ]; then
    if KIOSK_MODELS_DIR="$APP/models" "$APP/.venv/bin/kiosk" models verify >/dev/null 2>&1; then
        ok "speech model"
    elif change "download the speech model"; then
        KIOSK_MODELS_DIR="$APP/models" "$APP/.venv/bin/kiosk" models download \
            || echo "warning: no speech model; the kiosk will use pocketsphinx" >&2
    fi
fi

# 6. The config file: written once, never overwritten.
if [ -f "$ETC/kiosk.toml" ]; then
    ok "config $ETC/kiosk.toml (kept as it is)"
elif change "write the default config to $ETC/kiosk.toml"; then
    install -d -m 0755 "$ETC"
    cat > "$ETC/kiosk.toml" <<EOF
# Back pain triage kiosk. Check with: kiosk --config $ETC/kiosk.toml config show
engine = "auto"
model_path = "/opt/kiosk/models/vosk-model-small-en-us-0.15"
speaking_rate = 150
volume = 1.0
no_speech_timeout = 8.0
walk_away_timeout = 40.0
state_dir = "/var/lib/kiosk"
EOF
    chmod 0644 "$ETC/kiosk.toml"
fi

# 7. The state directory (systemd creates it too; this is for a throwaway root).
if [ -d "$STATE" ]; then
    ok "state directory $STATE"
elif change "create $STATE"; then
    install -d -m 0700 "$STATE"
fi

# 8. The unit, and the service enabled and running.
if cmp -s "$SRC/systemd/kiosk.service" "$UNIT"; then
    ok "unit $UNIT"
    unit_changed=0
elif change "install $UNIT"; then
    install -D -m 0644 "$SRC/systemd/kiosk.service" "$UNIT"
    unit_changed=1
else
    unit_changed=0
fi
if [ -z "$ROOT" ]; then
    if [ "$unit_changed" = 1 ] && [ "$DRY" = 0 ]; then systemctl daemon-reload; fi
    if systemctl is-enabled --quiet kiosk 2>/dev/null && systemctl is-active --quiet kiosk && [ "$CHANGED" = 0 ]; then
        ok "service enabled and running"
    elif change "enable and (re)start kiosk.service"; then
        systemctl enable --quiet kiosk
        systemctl restart kiosk
    fi
fi

if [ "$CHANGED" = 0 ]; then echo "nothing to do"; fi
