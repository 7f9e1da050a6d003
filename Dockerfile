# KanGrow Auth: one static binary on a distroless base. Used by docker-compose.yml.
#   docker build -t kangrow-auth .
FROM golang:1.26 AS build
WORKDIR /src
ENV CGO_ENABLED=0 GOTOOLCHAIN=local
COPY go.mod go.sum ./
RUN go mod download
COPY . .
ARG VERSION=dev
RUN go build -trimpath -buildvcs=false -ldflags "-s -w -X main.version=${VERSION}" \
      -o /out/kangrow-auth ./cmd/kangrow-auth

FROM gcr.io/distroless/static-debian12:nonroot
COPY --from=build /out/kangrow-auth /usr/local/bin/kangrow-auth
USER nonroot:nonroot
EXPOSE 8080
ENTRYPOINT ["/usr/local/bin/kangrow-auth"]
CMD ["serve"]
