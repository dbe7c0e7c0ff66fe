#!/usr/bin/env bash
# Draws the TokenSim icon (a phone holding a shield with a check mark, on a blue rounded
# square) with ImageMagick and writes every size Tauri bundles. The PNGs are committed;
# run this again only to change the design.
set -euo pipefail
cd "$(dirname "$0")"
convert -size 512x512 xc:none \
  \( -size 480x480 gradient:'#2563eb-#1e3a8a' \
     \( -size 480x480 xc:none -fill white -draw 'roundrectangle 0,0 479,479 104,104' \) \
     -compose CopyOpacity -composite \) -geometry +16+16 -compose Over -composite \
  -fill '#f8fafc' -draw 'roundrectangle 156,72 356,440 36,36' \
  -fill '#dbeafe' -draw 'roundrectangle 176,112 336,360 10,10' \
  -fill '#94a3b8' -draw 'circle 256,400 256,416' \
  -fill '#1d4ed8' -draw 'path "M 256,150 L 312,172 L 312,218 C 312,258 286,288 256,302 C 226,288 200,258 200,218 L 200,172 Z"' \
  -fill none -stroke '#f8fafc' -strokewidth 16 -draw 'polyline 230,226 248,244 284,206' \
  PNG32:icon.png
render() { convert icon.png -resize "$1x$1" "PNG32:$2"; }
render 32 32x32.png
render 64 64x64.png
render 128 128x128.png
render 256 128x128@2x.png
for size in 30 44 71 89 107 142 150 284 310; do render "$size" "Square${size}x${size}Logo.png"; done
render 50 StoreLogo.png
convert icon.png -define icon:auto-resize=256,128,64,48,32,16 icon.ico
