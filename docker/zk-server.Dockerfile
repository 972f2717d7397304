# syntax=docker/dockerfile:1
# Shepherd's zk-server: build with the official Swift image, run on a slim Ubuntu.
#   docker build -f docker/zk-server.Dockerfile -t shepherd/zk-server .      (from the repository root)
#   docker run --rm -p 127.0.0.1:2181:2181 shepherd/zk-server
ARG SWIFT_VERSION=6.2

# ---- build: the whole package (the `build` stage is also the matrix runner in compose.matrix.yml)
FROM swift:${SWIFT_VERSION}-noble AS build
WORKDIR /src
# Manifest first so dependency-free resolution is cached apart from the sources.
COPY Package.swift ./
COPY Sources ./Sources
COPY Tests ./Tests
COPY docker ./docker
RUN swift build -c release --product zk-server --static-swift-stdlib \
 && install -D "$(swift build -c release --show-bin-path)/zk-server" /out/zk-server

# ---- run: just the binary, a zoo.cfg and a data directory
FROM ubuntu:24.04 AS run
RUN useradd --system --uid 2181 --home-dir /data zk \
 && mkdir -p /data /conf && chown zk /data
COPY --from=build /out/zk-server /usr/local/bin/zk-server
COPY docker/zoo.cfg /conf/zoo.cfg
USER zk
VOLUME /data
EXPOSE 2181
# ruok over bash's /dev/tcp (no netcat in the image); imok means serving.
HEALTHCHECK --interval=5s --timeout=3s --start-period=5s --retries=5 \
  CMD ["bash", "-c", "exec 3<>/dev/tcp/127.0.0.1/2181 && printf ruok >&3 && [ \"$(cat <&3)\" = imok ]"]
ENTRYPOINT ["/usr/local/bin/zk-server"]
CMD ["/conf/zoo.cfg"]
