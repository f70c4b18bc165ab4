#!/usr/bin/env bash
# llama.cpp natively, for bench/local_llm_faithfulness.py: llama-cpp-python 0.3.36's Python
# bindings (ctypes, used from its unpacked sdist) over the libllama and libggml built from the
# llama.cpp that sdist vendors (only those libraries: the package's full build, with its tools and
# server, takes far longer on two cores). Idempotent: a second run builds nothing. Prints the
# python to run the benchmark with, whose environment finds the bindings and the libraries.
#
#     bench/local_llm_native.sh
#     target/llama-native/python bench/local_llm_faithfulness.py --index-root target/eval/index
set -euo pipefail
cd "$(dirname "$0")/.."
VERSION=0.3.36
DIR="${CARGO_TARGET_DIR:-target}/llama-native"
SRC="$DIR/llama_cpp_python-$VERSION"
mkdir -p "$DIR"
if [ ! -x "$DIR/venv/bin/cmake" ] || [ ! -x "$DIR/venv/bin/ninja" ]; then
    python3 -m venv "$DIR/venv"
    # numpy, typing_extensions, diskcache, jinja2: what the bindings import; cmake and ninja from
    # PyPI (Debian's cmake may be older than llama.cpp asks); scikit-build-core to read the sdist.
    "$DIR/venv/bin/pip" install --quiet cmake ninja numpy typing_extensions diskcache jinja2 scikit-build-core
fi
if [ ! -d "$SRC" ]; then
    "$DIR/venv/bin/pip" download --quiet --no-deps --no-build-isolation "llama-cpp-python==$VERSION" -d "$DIR"
    tar xzf "$DIR/llama_cpp_python-$VERSION.tar.gz" -C "$DIR"
fi
if [ ! -f "$DIR/build/bin/libllama.so" ]; then
    PATH="$PWD/$DIR/venv/bin:$PATH" cmake -S "$SRC/vendor/llama.cpp" -B "$DIR/build" -G Ninja -DCMAKE_BUILD_TYPE=Release \
        -DBUILD_SHARED_LIBS=ON -DLLAMA_BUILD_TESTS=OFF -DLLAMA_BUILD_EXAMPLES=OFF -DLLAMA_BUILD_TOOLS=OFF \
        -DLLAMA_BUILD_SERVER=OFF -DLLAMA_CURL=OFF -DGGML_NATIVE=ON -DGGML_OPENMP=OFF
    PATH="$PWD/$DIR/venv/bin:$PATH" ninja -C "$DIR/build" llama
fi
cat > "$DIR/python" <<EOF
#!/bin/sh
# Written by bench/local_llm_native.sh: python with llama-cpp-python's bindings over the local build.
LLAMA_CPP_LIB_PATH="$PWD/$DIR/build/bin" PYTHONPATH="$PWD/$SRC\${PYTHONPATH:+:\$PYTHONPATH}" exec "$PWD/$DIR/venv/bin/python" "\$@"
EOF
chmod +x "$DIR/python"
echo "$DIR/python"
