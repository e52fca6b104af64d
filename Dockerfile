# session-admission container image: built from this repository on Debian 12, run on distroless.
# Not built in this project's CI (no container engine there); build with:
#   docker build -t REGISTRY/session-admission:0.1.0 .
FROM debian:12 AS build
RUN apt-get update \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
      build-essential cmake pkg-config \
      libmicrohttpd-dev libgnutls28-dev libssl-dev libcjson-dev libyaml-dev \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /src
COPY . .
RUN cmake -S . -B build -DCMAKE_BUILD_TYPE=Release \
 && cmake --build build --target session-admission -j"$(nproc)" \
 && strip build/session-admission
# The runtime base already has glibc; copy every other shared library the binary needs, under the
# names the dynamic linker looks for, into the multiarch folder it searches by default.
RUN set -eu; \
    libdir="/rootfs/usr/lib/$(gcc -print-multiarch)"; mkdir -p "$libdir" /rootfs/usr/local/bin; \
    cp build/session-admission /rootfs/usr/local/bin/; \
    ldd build/session-admission | awk '$2 == "=>" && $3 ~ /^\// { print $1, $3 }' \
      | while read -r soname path; do \
          case "$soname" in libc.so.*|libm.so.*|libpthread.so.*|libdl.so.*|librt.so.*|ld-linux*|libgcc_s.so.*) continue;; esac; \
          cp -L "$path" "$libdir/$soname"; \
        done; \
    ls -l "$libdir"

# distroless: no shell, no package manager; uid 65532 ("nonroot"), matching the chart's securityContext.
FROM gcr.io/distroless/cc-debian12:nonroot
COPY --from=build /rootfs/ /
USER 65532:65532
EXPOSE 8443 9090
ENTRYPOINT ["/usr/local/bin/session-admission"]
CMD ["serve"]
