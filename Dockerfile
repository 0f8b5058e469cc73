# syntax=docker/dockerfile:1
# evsync syncer image: `docker build -t evsync/syncer .`
# Default command: the daemon (`syncer run`); mount a config and pass --config, or rely on the
# defaults and EVSYNC_* variables. See docs/operating.md.

FROM golang:1.26 AS build
WORKDIR /src
# Dependencies first, so source edits don't invalidate the module download layer.
COPY go.mod go.sum ./
RUN --mount=type=cache,target=/go/pkg/mod go mod download
COPY . .
# The build context has no .git, so no VCS revision is stamped: pass the release's version
# (docker build --build-arg VERSION=v1.2.0 .) for `syncer --version`, the User-Agent and
# evsync_build_info; without it they show "dev" and the Go version.
ARG VERSION=""
RUN --mount=type=cache,target=/go/pkg/mod \
    --mount=type=cache,target=/root/.cache/go-build \
    CGO_ENABLED=0 go build -trimpath -buildvcs=false \
      -ldflags "-s -w -X github.com/evsync/evsync/internal/cli.version=${VERSION}" \
      -o /out/syncer ./cmd/syncer

# distroless static: CA certificates and tzdata, no shell, runs as uid 65532 (nonroot).
FROM gcr.io/distroless/static-debian12:nonroot
COPY --from=build /out/syncer /syncer
COPY config.example.yaml /etc/evsync/config.example.yaml
USER nonroot:nonroot
# /healthz, /readyz and /metrics when http.listen is ":9090".
EXPOSE 9090
ENTRYPOINT ["/syncer"]
CMD ["run"]
