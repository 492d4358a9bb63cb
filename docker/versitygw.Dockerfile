# versitygw (github.com/versity/versitygw, pinned in the Makefile), a real S3
# server on the posix backend, built on the host with CGO_ENABLED=0. The
# ringcache binary rides along as the health-check probe (no shell, no curl).
FROM scratch
COPY versitygw /versitygw
COPY ringcache /ringcache
COPY tmp /tmp
VOLUME ["/data"]
EXPOSE 7070
ENTRYPOINT ["/versitygw"]
CMD ["--port", ":7070", "--health", "/health", "posix", "/data"]
