# Build a static binary (the same command .ci/run checks without Docker).
FROM golang:1.26 AS build
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
COPY . .
RUN CGO_ENABLED=0 go build -trimpath -ldflags="-s -w" -o /wabarouter ./cmd/wabarouter

# Run it on a minimal non-root image.
FROM gcr.io/distroless/static-debian12:nonroot
COPY --from=build /wabarouter /usr/local/bin/wabarouter
COPY config.example.yaml /etc/wabarouter/config.yaml
USER nonroot
VOLUME /data
EXPOSE 8080
ENTRYPOINT ["/usr/local/bin/wabarouter"]
CMD ["serve", "--config", "/etc/wabarouter/config.yaml"]
