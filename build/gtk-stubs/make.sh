#!/bin/sh
# Makes the two stub libraries committed beside this script (needs a C compiler; users never run it).
# OpenCvSharp's official Linux runtime links GTK 3 for OpenCV's windows (highgui), which Denoiser never opens; a
# machine without GTK 3 (Debian 12 images without a desktop) cannot load it at all. Each stub is an empty library
# carrying the real one's SONAME: loaded first, it satisfies the dependency, and the GTK functions OpenCV never calls
# stay unbound (lazy binding). src/Data/OpenCv.cs loads a stub only when the real library cannot be loaded.
set -e
cd "$(dirname "$0")"
: > empty.c
for lib in libgtk-3.so.0 libgdk-3.so.0; do
  cc -shared -fPIC -nostdlib -s -o "$lib" -Wl,-soname,"$lib" empty.c
done
rm empty.c
