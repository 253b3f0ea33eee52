#!/usr/bin/env bash
# The HTML digest in a real browser (headless Chromium) at phone width
# (390 px) and desktop width (1200 px): each rendered to a PNG that must
# not be blank.  Skipped without Chromium.  DIGEST_SCREENSHOT=FILE keeps
# the pictures to look at (FILE-390.png, FILE-1200.png).
. "$(dirname "$0")/lib.sh"

browser=$(command -v chromium || command -v chromium-browser || true)
[ -n "$browser" ] || skip "no chromium"

cp -a "$DIGEST_SRC/examples" "$TMP/ex"
rm -f "$TMP/ex/example.db"*
run 0 -c "$TMP/ex/digest.ini" ingest
run 0 -c "$TMP/ex/digest.ini" preview --leader alex --now 2026-11-30 --format html
cp "$TMP/out" "$TMP/digest.html"
for width in 390 1200; do
timeout 120 "$browser" --headless --no-sandbox --disable-gpu --disable-quic \
	--no-first-run --disable-background-networking --disable-component-update \
	--disable-sync --user-data-dir="$TMP/chrome" --hide-scrollbars \
	--window-size=$width,1300 --screenshot="$TMP/digest.png" \
	"file://$TMP/digest.html" >/dev/null 2>&1 || fail "chromium failed at $width px"
[ -z "${DIGEST_SCREENSHOT:-}" ] || cp "$TMP/digest.png" "${DIGEST_SCREENSHOT%.png}-$width.png"

# Decode the PNG (8-bit RGB or RGBA, as Chromium writes it) and count the
# pixels that differ from the page background: text, boxes and bars.
python3 - "$TMP/digest.png" <<'PY' || fail "the screenshot at $width px is blank"
import struct, sys, zlib
data = open(sys.argv[1], "rb").read()
assert data[:8] == b"\x89PNG\r\n\x1a\n"
pos, idat = 8, b""
while pos < len(data):
    n, kind = struct.unpack(">I4s", data[pos:pos + 8])
    body = data[pos + 8:pos + 8 + n]
    if kind == b"IHDR":
        w, h, depth, ctype = struct.unpack(">IIBB", body[:10])
    elif kind == b"IDAT":
        idat += body
    pos += 12 + n
assert depth == 8 and ctype in (2, 6), (depth, ctype)
bpp = 3 if ctype == 2 else 4
raw = zlib.decompress(idat)
stride = w * bpp
rows, prev = [], bytearray(stride)
for y in range(h):
    f = raw[y * (stride + 1)]
    line = bytearray(raw[y * (stride + 1) + 1:(y + 1) * (stride + 1)])
    for x in range(stride):
        a = line[x - bpp] if x >= bpp else 0
        b = prev[x]
        c = prev[x - bpp] if x >= bpp else 0
        if f == 1: line[x] = (line[x] + a) & 255
        elif f == 2: line[x] = (line[x] + b) & 255
        elif f == 3: line[x] = (line[x] + (a + b) // 2) & 255
        elif f == 4:
            p = a + b - c
            pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
            line[x] = (line[x] + (a if pa <= pb and pa <= pc else b if pb <= pc else c)) & 255
    rows.append(bytes(line))
    prev = line
bg = rows[0][:3]
ink = sum(1 for r in rows for x in range(0, stride, bpp) if r[x:x + 3] != bg)
green = sum(1 for r in rows for x in range(0, stride, bpp) if r[x:x + 3] == bytes((0x2f, 0x7d, 0x5b)))
print("%dx%d, %d pixels not background, %d of the accent green" % (w, h, ink, green))
assert ink > w * h // 20, "too little on the page"
assert green > 50, "no bar chart or focus accent"
PY
done
