# session-admission container image: built from this repository on Debian 12, run from scratch.
# The runtime stage takes nothing from a registry: it holds the binary, the shared libraries and
# dynamic loader it links (as ldd resolves them) and passwd/group entries for uid 65532, and
# nothing else (no shell, no package manager). CI builds exactly this file and runs the result
# (.ci/image). Build and push:
#   podman build -t REGISTRY/session-admission:0.1.0 .   (or docker build)
#   podman push REGISTRY/session-admission:0.1.0
# BUILD_BASE is the build stage's image; CI points it at a Debian 12 made locally with debootstrap.
ARG BUILD_BASE=debian:12
# The toolchain stage on its own, so a rebuild after a source change reuses it (CI tags it).
FROM ${BUILD_BASE} AS toolchain
RUN apt-get update \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
      build-essential cmake pkg-config \
      libmicrohttpd-dev libgnutls28-dev libssl-dev libcjson-dev libyaml-dev \
 && rm -rf /var/lib/apt/lists/*

FROM toolchain AS build
WORKDIR /src
COPY . .
# One RUN for the build and the runtime root: every layer here is a full copy under some storage
# drivers (CI's vfs). The runtime root: every file ldd resolves (libc and the loader included) at
# the path it resolved it to, plus libgcc_s, which glibc loads itself when a thread exits or is
# cancelled.
RUN set -eu; \
    cmake -S . -B build -DCMAKE_BUILD_TYPE=Release >/dev/null; \
    cmake --build build --target session-admission -j"$(nproc)"; \
    strip build/session-admission; \
    mkdir -p /rootfs/usr/local/bin /rootfs/etc; \
    cp build/session-admission /rootfs/usr/local/bin/; \
    libs=$(ldd build/session-admission | awk '$2 == "=>" && $3 ~ /^\// { print $3 } $1 ~ /^\// { print $1 }'); \
    libs="$libs $(readlink -f "$(gcc -print-file-name=libgcc_s.so.1)")"; \
    for f in $libs; do cp -L --parents "$f" /rootfs/; done; \
    printf 'root:x:0:0:root:/root:/sbin/nologin\nnonroot:x:65532:65532:nonroot:/nonexistent:/sbin/nologin\n' > /rootfs/etc/passwd; \
    printf 'root:x:0:\nnonroot:x:65532:\n' > /rootfs/etc/group; \
    find /rootfs -type f | sort

FROM scratch
COPY --from=build /rootfs/ /
USER 65532:65532
EXPOSE 8443 9090
ENTRYPOINT ["/usr/local/bin/session-admission"]
CMD ["serve"]
