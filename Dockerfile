# syntax=docker/dockerfile:1
# Build: a static binary, the same one `make build` makes.
FROM golang:1.26-bookworm AS build
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
COPY . .
ARG VERSION=dev
RUN CGO_ENABLED=0 go build -trimpath -ldflags "-s -w -X main.version=${VERSION}" -o /out/hotline ./cmd/hotline \
 && mkdir -p /out/data

# Run: no shell, no package manager, a non-root user, the data on a volume.
FROM gcr.io/distroless/static-debian12:nonroot
COPY --from=build /out/hotline /usr/local/bin/hotline
# The volume starts out owned by the nonroot user (uid 65532), so the store can be created.
COPY --from=build --chown=65532:65532 /out/data /data
ENV HOTLINE_DATA_DIR=/data \
    HOTLINE_LISTEN=0.0.0.0:8080
VOLUME ["/data"]
EXPOSE 8080
USER nonroot:nonroot
HEALTHCHECK --interval=30s --timeout=5s --start-period=10s --retries=3 \
  CMD ["/usr/local/bin/hotline", "healthcheck", "--url", "http://127.0.0.1:8080/healthz"]
ENTRYPOINT ["/usr/local/bin/hotline"]
CMD ["serve"]
