# syntax=docker/dockerfile:1
# The kingress controller image:
#   docker build -t kingress:dev .
# Stage 1 compiles the release binary; stage 2 holds only that binary on a distroless base
# (glibc, CA certificates, a non-root user; no shell, no package manager, no compiler).

ARG RUST_VERSION=1

FROM docker.io/library/rust:${RUST_VERSION}-bookworm AS build
WORKDIR /src
# Only what the binary is built from (see .dockerignore): the workspace manifests and lock
# file, kingress's sources, and the other workspace member's manifest and sources (cargo reads
# every member of the workspace, even when building one binary).
COPY Cargo.toml Cargo.lock ./
COPY src ./src
COPY kong-admin-double/Cargo.toml ./kong-admin-double/Cargo.toml
COPY kong-admin-double/src ./kong-admin-double/src
# The registry and target caches persist across builds (BuildKit); the binary is copied out of
# the cache mount so that the next stage can take it.
RUN --mount=type=cache,target=/usr/local/cargo/registry,sharing=locked \
    --mount=type=cache,target=/usr/local/cargo/git,sharing=locked \
    --mount=type=cache,target=/src/target,sharing=locked \
    cargo build --release --locked --bin kingress \
    && install -D -m 0755 target/release/kingress /out/kingress \
    && /out/kingress --version

# Debian 12 (bookworm) like the builder, so the glibc the binary links against is the same.
FROM gcr.io/distroless/cc-debian12:nonroot
LABEL org.opencontainers.image.title="kingress" \
      org.opencontainers.image.description="Kubernetes ingress controller for Kong, KIC-compatible" \
      org.opencontainers.image.licenses="Apache-2.0"
COPY --from=build /out/kingress /kingress
# distroless's "nonroot" user, numerically, so that runAsNonRoot can verify it.
USER 65532:65532
# 10254: /healthz and /readyz; 10255: /metrics.
EXPOSE 10254 10255
ENTRYPOINT ["/kingress"]
CMD ["run"]
