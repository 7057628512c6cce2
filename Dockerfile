# Build a static binary (the same command .ci/run checks without Docker).
FROM golang:1.26 AS build
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
COPY . .
RUN CGO_ENABLED=0 go build -trimpath -ldflags="-s -w" -o /wabarouter ./cmd/wabarouter
# The image has no shell to make the volume's folder, so it is made here and
# copied owned by nonroot: a fresh named volume takes the owner of the folder
# it is mounted on, and root's would leave the router unable to write.
RUN mkdir /data

# Run it on a minimal non-root image: no shell, so the health check is the
# binary's own healthcheck command.
FROM gcr.io/distroless/static-debian12:nonroot
COPY --from=build /wabarouter /usr/local/bin/wabarouter
COPY --from=build --chown=65532:65532 /data /data
COPY config.docker.yaml /etc/wabarouter/config.yaml
COPY rules.example.yaml /etc/wabarouter/rules.example.yaml
USER nonroot
VOLUME /data
EXPOSE 8080
HEALTHCHECK --interval=30s --timeout=10s --start-period=15s --retries=3 \
  CMD ["/usr/local/bin/wabarouter", "healthcheck", "--url", "http://127.0.0.1:8080/readyz"]
ENTRYPOINT ["/usr/local/bin/wabarouter"]
CMD ["serve", "--config", "/etc/wabarouter/config.yaml"]
